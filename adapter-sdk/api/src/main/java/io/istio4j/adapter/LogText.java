package io.istio4j.adapter;

/**
 * Makes text a client sent safe to put in a log line: control characters are escaped (a newline
 * cannot forge a line of its own), other characters that are not printable become {@code \}{@code
 * uXXXX}, and the text is cut after {@link #DEFAULT_MAX_CHARS} characters with a note of how much
 * was left out. Use it for every attribute name or value, quota name or error message built from
 * one that reaches a log.
 *
 * <pre>{@code
 * log.warn("no quota named {}", LogText.escape(instance.name()));
 * // no quota named evil\nWARN forged line...(1200 more)
 * }</pre>
 */
public final class LogText {

  /** How many characters of a value {@link #escape(Object)} keeps. */
  public static final int DEFAULT_MAX_CHARS = 256;

  private LogText() {}

  /** {@code value}'s text escaped and cut at {@link #DEFAULT_MAX_CHARS}; {@code "null"} for null. */
  public static String escape(Object value) {
    return escape(value, DEFAULT_MAX_CHARS);
  }

  /**
   * {@code value}'s text escaped, and cut after {@code maxChars} characters of the original with
   * {@code ...(N more)} appended.
   *
   * @throws IllegalArgumentException if {@code maxChars} is negative
   */
  public static String escape(Object value, int maxChars) {
    if (maxChars < 0) {
      throw new IllegalArgumentException("maxChars: " + maxChars + " (expected: >= 0)");
    }
    String s = String.valueOf(value);
    int n = Math.min(s.length(), maxChars);
    int i = 0;
    while (i < n && safe(s.charAt(i))) {
      i++;
    }
    if (i == s.length()) {
      return s; // the common case: nothing to escape, nothing to cut, nothing allocated
    }
    StringBuilder sb = new StringBuilder(n + 16).append(s, 0, i);
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (safe(c)) {
        sb.append(c);
        continue;
      }
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\\' -> sb.append("\\\\");
        default -> {
          sb.append("\\u");
          String hex = Integer.toHexString(c);
          for (int pad = hex.length(); pad < 4; pad++) {
            sb.append('0');
          }
          sb.append(hex);
        }
      }
    }
    if (s.length() > n) {
      sb.append("...(").append(s.length() - n).append(" more)");
    }
    return sb.toString();
  }

  /**
   * Printable and not a line or paragraph separator. Surrogates pass (a pair is one printable
   * character); a backslash is escaped so an escape in the output is never ambiguous.
   */
  private static boolean safe(char c) {
    if (c >= 0x20 && c < 0x7f) {
      return c != '\\';
    }
    if (c < 0xa0) {
      return false; // C0 and C1 controls, DEL (NEL, U+0085, ends a line for some readers)
    }
    return switch (Character.getType(c)) {
      case Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.CONTROL, Character.FORMAT,
          Character.UNASSIGNED, Character.PRIVATE_USE -> false;
      default -> true;
    };
  }
}

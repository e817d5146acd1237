package io.istio4j.mixer.expr;

/** Go's string literal rules: {@code strconv.Unquote} and {@code %q}. */
final class GoStrings {

  private GoStrings() {}

  /** Unquotes a Go interpreted ("..."), raw (`...`) or rune ('x') literal. */
  static String unquote(String lit) {
    char q = lit.charAt(0);
    String body = lit.substring(1, lit.length() - 1);
    if (q == '`') {
      return body.replace("\r", "");
    }
    StringBuilder sb = new StringBuilder(body.length());
    int i = 0;
    while (i < body.length()) {
      char c = body.charAt(i++);
      if (c == q) {
        throw new IllegalArgumentException("invalid syntax: unescaped " + q);
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (i >= body.length()) {
        throw new IllegalArgumentException("invalid syntax: trailing backslash");
      }
      char e = body.charAt(i++);
      switch (e) {
        case 'a' -> sb.append('\u0007');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'v' -> sb.append('\u000b');
        case '\\' -> sb.append('\\');
        case '\'', '"' -> {
          if (e != q) {
            throw new IllegalArgumentException("invalid syntax: unknown escape \\" + e);
          }
          sb.append(e);
        }
        case 'x' -> {
          sb.append((char) digits(body, i, 2, 16));
          i += 2;
        }
        case 'u' -> {
          sb.appendCodePoint(codePoint(digits(body, i, 4, 16)));
          i += 4;
        }
        case 'U' -> {
          sb.appendCodePoint(codePoint(digits(body, i, 8, 16)));
          i += 8;
        }
        default -> {
          if (e >= '0' && e <= '7') {
            long v = digits(body, i - 1, 3, 8);
            if (v > 255) {
              throw new IllegalArgumentException("invalid syntax: octal escape value > 255");
            }
            sb.append((char) v);
            i += 2;
          } else {
            throw new IllegalArgumentException("invalid syntax: unknown escape \\" + e);
          }
        }
      }
    }
    if (q == '\'' && sb.codePointCount(0, sb.length()) != 1) {
      throw new IllegalArgumentException("illegal rune literal " + lit);
    }
    return sb.toString();
  }

  /** The value of {@code count} ASCII digits of {@code radix} at {@code from}, as Go's escapes need. */
  private static long digits(String body, int from, int count, int radix) {
    if (from + count > body.length()) {
      throw new IllegalArgumentException("invalid syntax: escape needs " + count + " digits");
    }
    long v = 0;
    for (int k = from; k < from + count; k++) {
      char c = body.charAt(k);
      int d = c < 128 ? Character.digit(c, radix) : -1;
      if (d < 0) {
        throw new IllegalArgumentException("invalid syntax: '" + c + "' in an escape (expected: base-" + radix + " digit)");
      }
      v = v * radix + d;
    }
    return v;
  }

  private static int codePoint(long v) {
    if (v > Character.MAX_CODE_POINT || (v >= Character.MIN_SURROGATE && v <= Character.MAX_SURROGATE)) {
      throw new IllegalArgumentException("invalid syntax: escape is not a Unicode code point");
    }
    return (int) v;
  }

  /** Quotes as Go's {@code %q} does for printable text. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\x%02x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}

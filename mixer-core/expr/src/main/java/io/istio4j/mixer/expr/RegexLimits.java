package io.istio4j.mixer.expr;

import org.jspecify.annotations.Nullable;

/**
 * Rejects regular expressions whose nested counted repetitions multiply past 1000, before RE2J
 * compiles them. RE2J checks each count ({@code a{1001}} is an error) but not their product, and
 * expands counted repeats: {@code (a{1000}){1000}} becomes a million-instruction program that takes
 * about a second to compile and megabytes to hold, and a client can send a fresh such pattern in
 * every request. Go's regexp, which upstream Mixer used, rejects exactly these patterns ("invalid
 * repeat count": the product of nested repeat counts may not exceed 1000), so this keeps upstream's
 * meaning as well as the server's CPU.
 */
final class RegexLimits {
  static final int MAX_REPEAT_PRODUCT = 1000;

  private RegexLimits() {}

  /** Why {@code pattern} is refused, or null when its nested repetitions are within the limit. */
  static @Nullable String problem(String pattern) {
    // One frame per open group: the largest repeat product seen inside it so far.
    int[] inner = new int[Math.min(pattern.length(), 4096) + 2];
    int depth = 0;
    inner[0] = 1;
    // The repeat product of the item just read (1 for an atom; a group's inner product).
    long last = 1;
    int n = pattern.length();
    int i = 0;
    while (i < n) {
      char c = pattern.charAt(i);
      switch (c) {
        case '\\' -> {
          i = skipEscape(pattern, i);
          last = 1;
          continue;
        }
        case '[' -> {
          i = skipClass(pattern, i);
          last = 1;
          continue;
        }
        case '(' -> {
          if (depth + 1 >= inner.length) {
            return "regular expression nests groups more than " + (inner.length - 2) + " deep";
          }
          inner[++depth] = 1;
          last = 1;
        }
        case ')' -> {
          if (depth > 0) {
            last = inner[depth--];
            inner[depth] = (int) Math.max(inner[depth], last);
          } else {
            last = 1;
          }
        }
        case '{' -> {
          int close = pattern.indexOf('}', i);
          long count = close < 0 ? -1 : repeatMax(pattern, i + 1, close);
          if (count >= 0) {
            long product = last * Math.max(count, 1);
            if (product > MAX_REPEAT_PRODUCT) {
              return "invalid nested repetition: the counts of nested repeats multiply to " + product
                  + ", more than " + MAX_REPEAT_PRODUCT;
            }
            inner[depth] = (int) Math.max(inner[depth], product);
            last = product;
            i = close + 1;
            continue;
          }
          last = 1;
        }
        default -> {
          if (c != '*' && c != '+' && c != '?' && c != '|') {
            last = 1;
          }
        }
      }
      i++;
    }
    return null;
  }

  /** The upper count of {@code n}, {@code n,} or {@code n,m} between {@code from} and {@code to}; -1 if not a count. */
  private static long repeatMax(String p, int from, int to) {
    if (from == to) {
      return -1;
    }
    long min = 0;
    long max = -1;
    boolean comma = false;
    long cur = 0;
    int digits = 0;
    for (int j = from; j < to; j++) {
      char c = p.charAt(j);
      if (c >= '0' && c <= '9') {
        cur = Math.min(cur * 10 + (c - '0'), 1_000_000);
        digits++;
      } else if (c == ',' && !comma && digits > 0) {
        comma = true;
        min = cur;
        cur = 0;
        digits = 0;
      } else {
        return -1;
      }
    }
    if (!comma) {
      return digits == 0 ? -1 : cur;
    }
    max = digits == 0 ? min : cur;
    return Math.max(min, max);
  }

  private static int skipEscape(String p, int i) {
    int n = p.length();
    if (i + 1 >= n) {
      return n;
    }
    char e = p.charAt(i + 1);
    if (e == 'Q') {
      int end = p.indexOf("\\E", i + 2);
      return end < 0 ? n : end + 2;
    }
    if ((e == 'p' || e == 'P' || e == 'x') && i + 2 < n && p.charAt(i + 2) == '{') {
      int end = p.indexOf('}', i + 3);
      return end < 0 ? n : end + 1;
    }
    return i + 2;
  }

  private static int skipClass(String p, int i) {
    int n = p.length();
    int j = i + 1;
    if (j < n && p.charAt(j) == '^') {
      j++;
    }
    if (j < n && p.charAt(j) == ']') {
      j++; // a leading ] is literal
    }
    while (j < n) {
      char c = p.charAt(j);
      if (c == '\\') {
        j += 2;
      } else if (c == '[' && j + 1 < n && p.charAt(j + 1) == ':') {
        int end = p.indexOf(":]", j + 2);
        j = end < 0 ? j + 1 : end + 2;
      } else if (c == ']') {
        return j + 1;
      } else {
        j++;
      }
    }
    return n;
  }
}

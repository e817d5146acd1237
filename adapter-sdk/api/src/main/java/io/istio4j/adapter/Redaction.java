package io.istio4j.adapter;

/**
 * Keeps credentials out of logs, metrics labels, error messages and status pages: the user-info
 * of a URL ({@code user:password@}) becomes {@code ***@}. Works on text that is not a valid URL
 * too (a config typo must not echo the password it holds), so it never parses with {@link
 * java.net.URI}.
 *
 * <pre>{@code
 * Redaction.redactUserInfo("redis://:s3cret@redis:6379/0"); // redis://***@redis:6379/0
 * Redaction.redactUserInfo("redis://u:p@ss@host:bad");     // redis://***@host:bad
 * Redaction.redactUserInfo("u:p@host:6379");              // ***@host:6379
 * }</pre>
 */
public final class Redaction {

  /** What user-info is replaced with. */
  public static final String REDACTED = "***";

  private Redaction() {}

  /**
   * {@code url} with its user-info replaced by {@link #REDACTED}; unchanged when it has none.
   * The authority is taken to run from after {@code scheme://} (or from the start, without a
   * scheme) to the first {@code /}, {@code ?} or {@code #}; everything up to its last {@code @}
   * is user-info, whatever characters it holds. When there is no {@code @} in it but a {@code :}
   * followed by an {@code @} later (a password with an unescaped {@code /}, a mistyped scheme),
   * everything up to that last {@code @} is taken as user-info instead. Null gives null.
   */
  public static String redactUserInfo(String url) {
    if (url == null) {
      return null;
    }
    int scheme = url.indexOf("://");
    int start = scheme < 0 ? 0 : scheme + 3;
    int end = url.length();
    for (int i = start; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c == '/' || c == '?' || c == '#') {
        end = i;
        break;
      }
    }
    int at = url.lastIndexOf('@', end - 1);
    if (at < start) {
      // A password holding '/', '?' or '#' unescaped ends the authority early ("user:pa/ss@host"),
      // and so does a mistyped scheme ("redis//user:pw@host"). With a ':' before a later '@',
      // assume so: a path with both is rarer than a mistyped password, and redacting too much
      // leaks nothing.
      int later = url.lastIndexOf('@');
      int colon = url.indexOf(':', start);
      if (later < end || colon < 0 || colon > later) {
        return url;
      }
      at = later;
    }
    return url.substring(0, start) + REDACTED + url.substring(at);
  }
}

package io.istio4j.adapters.list;

import java.util.Arrays;

/**
 * Parses IP address literals. {@link java.net.InetAddress#getByName} is not used because it asks
 * DNS about anything that is not a literal (a check would then wait on the network) and accepts
 * old BSD forms such as {@code 10.1} or {@code 0x0a.0.0.1}.
 *
 * <p>IPv4 is four decimal parts without leading zeros (as Go 1.17+ reads them, so {@code 010.0.0.1}
 * is not silently octal or decimal). IPv6 is RFC 4291 text: hex groups, one {@code ::}, and an
 * optional dotted IPv4 tail; zones ({@code %eth0}) and brackets are rejected.
 */
final class IpAddresses {

  private static final byte[] V4_MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};

  private IpAddresses() {}

  /**
   * The address for lookups: 4 bytes for IPv4 (including IPv4-mapped IPv6 such as {@code
   * ::ffff:10.0.0.1}, which is the same host), 16 bytes for IPv6; null when {@code s} is not an
   * address literal.
   */
  static byte[] parse(String s) {
    byte[] a = parseLiteral(s);
    return a != null && isV4Mapped(a) ? Arrays.copyOfRange(a, 12, 16) : a;
  }

  /** The literal's bytes as written: 4 for dotted IPv4, 16 for any IPv6 text; null if invalid. */
  static byte[] parseLiteral(String s) {
    return s.indexOf(':') >= 0 ? parseV6(s) : parseV4(s, 0, s.length());
  }

  /** True for the 16 bytes of {@code ::ffff:a.b.c.d}. */
  static boolean isV4Mapped(byte[] address) {
    return address.length == 16 && Arrays.equals(address, 0, 12, V4_MAPPED_PREFIX, 0, 12);
  }

  private static byte[] parseV4(String s, int from, int to) {
    byte[] out = new byte[4];
    int part = 0;
    int value = 0;
    int digits = 0;
    for (int i = from; i <= to; i++) {
      char c = i < to ? s.charAt(i) : '.'; // the end closes the last part
      if (c == '.') {
        if (digits == 0 || part == 4) {
          return null;
        }
        out[part++] = (byte) value;
        value = 0;
        digits = 0;
      } else if (c >= '0' && c <= '9') {
        if (digits > 0 && value == 0) {
          return null; // leading zero
        }
        value = value * 10 + (c - '0');
        digits++;
        if (value > 255) {
          return null;
        }
      } else {
        return null;
      }
    }
    return part == 4 ? out : null;
  }

  private static byte[] parseV6(String s) {
    int gap = s.indexOf("::");
    byte[] out = new byte[16];
    if (gap < 0) {
      return groups(s, out, true) == 16 ? out : null;
    }
    if (s.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    byte[] head = new byte[16];
    byte[] tail = new byte[16];
    int h = groups(s.substring(0, gap), head, false);
    int t = groups(s.substring(gap + 2), tail, true);
    if (h < 0 || t < 0 || h + t > 14) { // "::" stands for at least one group
      return null;
    }
    System.arraycopy(head, 0, out, 0, h);
    System.arraycopy(tail, 0, out, 16 - t, t);
    return out;
  }

  /**
   * Reads colon-separated hex groups (the last one may be a dotted IPv4 address when {@code
   * v4Tail}) into {@code buf}; returns the number of bytes, or -1 when the text is invalid.
   */
  private static int groups(String part, byte[] buf, boolean v4Tail) {
    if (part.isEmpty()) {
      return 0;
    }
    int n = 0;
    int start = 0;
    while (true) {
      int colon = part.indexOf(':', start);
      int end = colon < 0 ? part.length() : colon;
      if (colon < 0 && v4Tail && part.indexOf('.', start) >= 0) {
        byte[] v4 = parseV4(part, start, end);
        if (v4 == null || n + 4 > 16) {
          return -1;
        }
        System.arraycopy(v4, 0, buf, n, 4);
        return n + 4;
      }
      int length = end - start;
      if (length < 1 || length > 4 || n + 2 > 16) {
        return -1;
      }
      int group = 0;
      for (int i = start; i < end; i++) {
        int digit = hex(part.charAt(i));
        if (digit < 0) {
          return -1;
        }
        group = group << 4 | digit;
      }
      buf[n++] = (byte) (group >>> 8);
      buf[n++] = (byte) group;
      if (colon < 0) {
        return n;
      }
      start = colon + 1;
    }
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}

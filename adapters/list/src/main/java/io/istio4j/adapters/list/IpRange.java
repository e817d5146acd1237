package io.istio4j.adapters.list;

import io.istio4j.adapter.GoValues;
import java.util.Arrays;

/**
 * One entry of an IP_ADDRESSES list: a CIDR range such as {@code 10.0.0.0/8} or {@code
 * 2001:db8::/32}, or a bare address, which is its own {@code /32} or {@code /128} range. Bits past
 * the prefix are ignored, as Go's {@code net.ParseCIDR} masks them.
 */
final class IpRange {

  private final byte[] address;
  private final int prefixLength;

  private IpRange(byte[] address, int prefixLength) {
    this.address = address;
    this.prefixLength = prefixLength;
  }

  /** The range written as {@code s}, or null when {@code s} is neither a CIDR range nor an address. */
  static IpRange parse(String s) {
    int slash = s.indexOf('/');
    byte[] address = GoValues.parseIp(slash < 0 ? s : s.substring(0, slash));
    if (address == null) {
      return null;
    }
    int prefix = address.length * 8;
    if (slash >= 0) {
      prefix = prefixLength(s, slash + 1, address.length * 8);
      if (prefix < 0) {
        return null;
      }
    }
    // ::ffff:a.b.c.d/p is the IPv4 range a.b.c.d/(p-96), where IPv4 values are looked up.
    if (GoValues.isV4InV6(address) && prefix >= 96) {
      return new IpRange(Arrays.copyOfRange(address, 12, 16), prefix - 96);
    }
    return new IpRange(address, prefix);
  }

  /**
   * Address {@code s} as the lists look it up: an IPv4-mapped IPv6 address ({@code
   * ::ffff:10.0.0.1}) is the same host as its IPv4 address, so it becomes those 4 bytes; null when
   * {@code s} is not an address literal (parsed as {@link GoValues#parseIp}).
   */
  static byte[] lookupAddress(String s) {
    byte[] a = GoValues.parseIp(s);
    return a != null && GoValues.isV4InV6(a) ? Arrays.copyOfRange(a, 12, 16) : a;
  }

  private static int prefixLength(String s, int from, int max) {
    int length = s.length() - from;
    if (length < 1 || length > 3) {
      return -1;
    }
    int value = 0;
    for (int i = from; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value <= max ? value : -1;
  }

  /** The network address, 4 or 16 bytes. */
  byte[] address() {
    return address;
  }

  /** How many leading bits of {@link #address()} the range fixes. */
  int prefixLength() {
    return prefixLength;
  }
}

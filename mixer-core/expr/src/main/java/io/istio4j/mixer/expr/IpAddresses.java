package io.istio4j.mixer.expr;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * IP addresses as Go's {@code net} package treats them: parsed like {@code net.ParseIP} (no DNS,
 * IPv4 as exactly four decimal octets), compared like {@code net.IP.Equal} (the 4- and 16-byte
 * forms of an IPv4 address are equal), printed like {@code net.IP.String}.
 */
public final class IpAddresses {

  private static final byte[] V4_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};

  private IpAddresses() {}

  /** Parses an IPv4 or IPv6 literal into 4 or 16 bytes; returns null when it is not one. */
  public static byte[] parse(String s) {
    if (s.indexOf(':') >= 0) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
          return null; // also refuses zones (%eth0), which Go's ParseIP refuses
        }
      }
      try {
        byte[] b = InetAddress.getByName(s).getAddress(); // a literal: no lookup happens
        return b.length == 4 ? toSixteen(b) : b;
      } catch (UnknownHostException | RuntimeException e) {
        return null;
      }
    }
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] b = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3) {
        return null;
      }
      int v = 0;
      for (int j = 0; j < p.length(); j++) {
        char c = p.charAt(j);
        if (c < '0' || c > '9') {
          return null;
        }
        v = v * 10 + (c - '0');
      }
      if (v > 255) {
        return null;
      }
      b[i] = (byte) v;
    }
    return b;
  }

  /** Equality of 4- or 16-byte addresses, IPv4 and its IPv4-mapped IPv6 form being equal. */
  public static boolean equal(byte[] a, byte[] b) {
    if (a.length == b.length) {
      return Arrays.equals(a, b);
    }
    if (a.length == 4 && b.length == 16) {
      return mapped(b, a);
    }
    if (a.length == 16 && b.length == 4) {
      return mapped(a, b);
    }
    return false;
  }

  private static boolean mapped(byte[] sixteen, byte[] four) {
    return Arrays.equals(sixteen, 0, 12, V4_PREFIX, 0, 12) && Arrays.equals(sixteen, 12, 16, four, 0, 4);
  }

  /** Formats as Go does: dotted quad for IPv4 (and IPv4-mapped), compressed hex for IPv6. */
  public static String format(byte[] b) {
    if (b.length == 4 || (b.length == 16 && Arrays.equals(b, 0, 12, V4_PREFIX, 0, 12))) {
      int o = b.length - 4;
      return (b[o] & 0xff) + "." + (b[o + 1] & 0xff) + "." + (b[o + 2] & 0xff) + "." + (b[o + 3] & 0xff);
    }
    if (b.length != 16) {
      StringBuilder hex = new StringBuilder("?");
      for (byte x : b) {
        hex.append(String.format("%02x", x & 0xff));
      }
      return hex.toString();
    }
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < 8; ) {
      if (group(b, i) != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && group(b, j) == 0) {
        j++;
      }
      if (j - i > bestLen && j - i >= 2) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLen - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(group(b, i)));
    }
    return sb.toString();
  }

  private static int group(byte[] b, int i) {
    return ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
  }

  private static byte[] toSixteen(byte[] four) {
    byte[] b = Arrays.copyOf(V4_PREFIX, 16);
    System.arraycopy(four, 0, b, 12, 4);
    return b;
  }
}

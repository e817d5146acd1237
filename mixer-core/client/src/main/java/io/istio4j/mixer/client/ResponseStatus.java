package io.istio4j.mixer.client;

import io.grpc.Status.Code;

/**
 * Reads the one number the load generator needs from a serialized response, without parsing the
 * message: the load generator shares the machine with the server it measures, so it spends no
 * allocation per response. Fields repeat as protobuf merges them (last scalar wins).
 */
final class ResponseStatus {

  /** What a response that does not parse as its message counts as. */
  static final int MALFORMED = Code.UNKNOWN.value();

  private static final int HEALTH_SERVING = 1;

  private ResponseStatus() {}

  /**
   * {@code CheckResponse.precondition.status.code}: field 2, then field 1, then varint field 1;
   * 0 (OK) when absent, as protobuf reads it; {@link #MALFORMED} when the bytes do not parse.
   */
  static int checkCode(byte[] response) {
    try {
      return scanCheckCode(response);
    } catch (IllegalArgumentException e) {
      return MALFORMED;
    }
  }

  private static int scanCheckCode(byte[] response) {
    Reader r = new Reader(response, 0, response.length);
    int code = 0;
    while (r.more()) {
      int tag = r.tag();
      if (tag == (2 << 3 | 2)) {
        int end = r.lengthEnd();
        Reader precondition = new Reader(response, r.pos, end);
        r.pos = end;
        while (precondition.more()) {
          int t = precondition.tag();
          if (t == (1 << 3 | 2)) {
            int statusEnd = precondition.lengthEnd();
            Reader status = new Reader(response, precondition.pos, statusEnd);
            precondition.pos = statusEnd;
            while (status.more()) {
              int s = status.tag();
              if (s == (1 << 3)) {
                code = (int) status.varint();
              } else {
                status.skip(s);
              }
            }
          } else {
            precondition.skip(t);
          }
        }
      } else {
        r.skip(tag);
      }
    }
    return code;
  }

  /** Whether a {@code grpc.health.v1.HealthCheckResponse} says SERVING (field 1, enum 1). */
  static boolean serving(byte[] response) {
    try {
      return scanServing(response);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean scanServing(byte[] response) {
    Reader r = new Reader(response, 0, response.length);
    long status = 0;
    while (r.more()) {
      int tag = r.tag();
      if (tag == (1 << 3)) {
        status = r.varint();
      } else {
        r.skip(tag);
      }
    }
    return status == HEALTH_SERVING;
  }

  /**
   * A cursor over {@code [pos, end)}; malformed input throws {@link IllegalArgumentException}.
   */
  private static final class Reader {
    final byte[] b;
    int pos;
    final int end;

    Reader(byte[] b, int pos, int end) {
      this.b = b;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    int tag() {
      long t = varint();
      if (t >>> 3 == 0 || t > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("bad tag " + t);
      }
      return (int) t;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw new IllegalArgumentException("truncated varint");
        }
        byte x = b[pos++];
        v |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          return v;
        }
      }
      throw new IllegalArgumentException("varint longer than 10 bytes");
    }

    int lengthEnd() {
      long len = varint();
      if (len < 0 || len > end - pos) {
        throw new IllegalArgumentException("length " + len + " past the end");
      }
      return pos + (int) len;
    }

    void skip(int tag) {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> advance(8);
        case 2 -> pos = lengthEnd();
        case 5 -> advance(4);
        default -> throw new IllegalArgumentException("wire type " + (tag & 7));
      }
    }

    private void advance(int n) {
      if (end - pos < n) {
        throw new IllegalArgumentException("truncated fixed field");
      }
      pos += n;
    }
  }
}

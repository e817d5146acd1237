package io.istio4j.mixer.attribute;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A bounds-checked reader of protobuf wire format over a byte range. Every malformed input ends in
 * an {@link AttributeDecodeException}, never another exception.
 */
final class WireReader {

  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int START_GROUP = 3;
  static final int END_GROUP = 4;
  static final int FIXED32 = 5;

  private static final int MAX_GROUP_DEPTH = 64;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  final byte[] buf;
  int pos;
  int limit;

  WireReader(byte[] buf, int off, int len) {
    this.buf = buf;
    reset(off, len);
  }

  /** Points this reader at {@code buf[off, off+len)}. */
  void reset(int off, int len) {
    this.pos = off;
    this.limit = off + len;
  }

  /**
   * Reads a length prefix and narrows the readable range to that payload; returns the previous
   * limit, to give to {@link #popLimit} once the payload is read.
   */
  int pushLimit() {
    int n = readLength();
    int old = limit;
    limit = pos + n;
    return old;
  }

  /** Skips whatever is left of the current payload and restores the outer limit. */
  void popLimit(int oldLimit) {
    pos = limit;
    limit = oldLimit;
  }

  boolean hasMore() {
    return pos < limit;
  }

  /** Reads a tag; field number 0 is malformed. */
  int readTag() {
    int tag;
    if (pos < limit && buf[pos] >= 0) {
      tag = buf[pos++];
    } else {
      tag = (int) readVarintSlow();
    }
    if ((tag >>> 3) == 0) {
      throw invalidTag();
    }
    return tag;
  }

  long readVarint64() {
    if (pos < limit && buf[pos] >= 0) {
      return buf[pos++];
    }
    return readVarintSlow();
  }

  private long readVarintSlow() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw truncated("varint");
      }
      byte b = buf[pos++];
      result |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw AttributeDecodeException.malformed("varint longer than 10 bytes at byte " + pos);
  }

  private AttributeDecodeException invalidTag() {
    return AttributeDecodeException.malformed("invalid tag (field number 0) at byte " + pos);
  }

  private AttributeDecodeException truncated(String what) {
    return AttributeDecodeException.malformed("truncated " + what + " at byte " + pos);
  }

  int readSint32() {
    int n = (int) readVarint64();
    return (n >>> 1) ^ -(n & 1);
  }

  long readFixed64() {
    if (limit - pos < 8) {
      throw truncated("fixed64");
    }
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (buf[pos + i] & 0xffL);
    }
    pos += 8;
    return v;
  }

  /** Reads a length prefix and checks the payload lies inside this reader; returns the length. */
  int readLength() {
    long len = readVarint64();
    if (len < 0 || len > limit - pos) {
      throw pastTheEnd(len);
    }
    return (int) len;
  }

  private AttributeDecodeException pastTheEnd(long len) {
    return AttributeDecodeException.malformed(
        "length " + len + " at byte " + pos + " runs past the end of the message");
  }

  void skipField(int tag) {
    skipField(tag, 0);
  }

  private void skipField(int tag, int depth) {
    switch (tag & 7) {
      case VARINT -> readVarint64();
      case FIXED64 -> skipBytes(8);
      case LENGTH_DELIMITED -> {
        int n = readLength();
        pos += n;
      }
      case FIXED32 -> skipBytes(4);
      case START_GROUP -> {
        if (depth >= MAX_GROUP_DEPTH) {
          throw AttributeDecodeException.malformed("groups nested deeper than " + MAX_GROUP_DEPTH);
        }
        int field = tag >>> 3;
        while (true) {
          if (!hasMore()) {
            throw AttributeDecodeException.malformed("unterminated group " + field);
          }
          int t = readTag();
          if ((t & 7) == END_GROUP) {
            if ((t >>> 3) != field) {
              throw AttributeDecodeException.malformed("mismatched end of group " + field);
            }
            return;
          }
          skipField(t, depth + 1);
        }
      }
      default -> throw AttributeDecodeException.malformed(
          "invalid wire type " + (tag & 7) + " at byte " + pos);
    }
  }

  private void skipBytes(int n) {
    if (limit - pos < n) {
      throw truncated("field");
    }
    pos += n;
  }

  /**
   * Returns whether {@code buf[from, to)} is well-formed UTF-8 (no overlong forms, no surrogates,
   * nothing above U+10FFFF), the rule protobuf applies to proto3 strings.
   */
  static boolean isValidUtf8(byte[] buf, int from, int to) {
    int i = from;
    // ASCII fast path, eight bytes at a time.
    while (to - i >= 8 && ((long) LONGS.get(buf, i) & 0x8080808080808080L) == 0) {
      i += 8;
    }
    while (i < to && buf[i] >= 0) {
      i++;
    }
    while (i < to) {
      int b = buf[i++];
      if (b >= 0) {
        continue;
      }
      if (b < (byte) 0xE0) { // 2 bytes
        if (b < (byte) 0xC2 || i >= to || buf[i++] > (byte) 0xBF) {
          return false;
        }
      } else if (b < (byte) 0xF0) { // 3 bytes
        if (to - i < 2) {
          return false;
        }
        int b2 = buf[i++];
        if (b2 > (byte) 0xBF
            || (b == (byte) 0xE0 && b2 < (byte) 0xA0)
            || (b == (byte) 0xED && b2 >= (byte) 0xA0)
            || buf[i++] > (byte) 0xBF) {
          return false;
        }
      } else { // 4 bytes
        if (to - i < 3) {
          return false;
        }
        int b2 = buf[i++];
        if (b2 > (byte) 0xBF
            || (((b << 28) + (b2 - (byte) 0x90)) >> 30) != 0
            || buf[i++] > (byte) 0xBF
            || buf[i++] > (byte) 0xBF) {
          return false;
        }
      }
    }
    return true;
  }
}

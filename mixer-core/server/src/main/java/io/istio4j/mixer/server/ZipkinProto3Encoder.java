package io.istio4j.mixer.server;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import org.jspecify.annotations.Nullable;

/**
 * Writes {@link RecordedSpan}s as Zipkin's proto3 {@code ListOfSpans} (zipkin.proto: each span is
 * field 1, length-delimited), byte for byte as zipkin-reporter's Brave encoder writes the same span
 * ({@code ZipkinProto3EncoderTest} compares them), except that a finished span's duration is at
 * least 1 µs so Zipkin does not read it as unknown.
 *
 * <p>The ids are written from their {@code long}s, Mixer's local endpoint is encoded once, and the
 * UTF-8 bytes of recurring strings (span names, tag keys, status codes: the same {@code String}
 * objects call after call) come from a small identity-keyed cache. Not thread-safe: one encoder per
 * thread.
 */
final class ZipkinProto3Encoder {

  private static final int SPAN_KEY = 1 << 3 | 2; // ListOfSpans.spans
  private static final int TRACE_ID_KEY = 1 << 3 | 2;
  private static final int PARENT_ID_KEY = 2 << 3 | 2;
  private static final int ID_KEY = 3 << 3 | 2;
  private static final int KIND_KEY = 4 << 3; // varint
  private static final int NAME_KEY = 5 << 3 | 2;
  private static final int TIMESTAMP_KEY = 6 << 3 | 1; // fixed64
  private static final int DURATION_KEY = 7 << 3; // varint
  private static final int LOCAL_ENDPOINT_KEY = 8 << 3 | 2;
  private static final int REMOTE_ENDPOINT_KEY = 9 << 3 | 2;
  private static final int TAG_KEY = 11 << 3 | 2;
  private static final int DEBUG_KEY = 12 << 3; // varint
  // Endpoint and map entry fields
  private static final int SERVICE_NAME_KEY = 1 << 3 | 2;
  private static final int IPV4_KEY = 2 << 3 | 2;
  private static final int IPV6_KEY = 3 << 3 | 2;
  private static final int PORT_KEY = 4 << 3;
  private static final int ENTRY_KEY_KEY = 1 << 3 | 2;
  private static final int ENTRY_VALUE_KEY = 2 << 3 | 2;

  /** Strings longer than this are encoded each time rather than cached. */
  private static final int CACHED_MAX_CHARS = 256;
  private static final int CACHE_SIZE = 512; // a power of two

  /** Mixer's local endpoint field, whole: key, length, service name and address. */
  private final byte[] localEndpoint;
  private final String[] cachedStrings = new String[CACHE_SIZE];
  private final byte[][] cachedBytes = new byte[CACHE_SIZE][];
  /** The UTF-8 of the span being written, in the order sizing met them; reused. */
  private byte[][] pending = new byte[16][];
  private int pendingCount;
  private int pendingRead;
  private @Nullable RecordedSpan sized;
  private int sizedValue;

  /** Encodes Mixer's spans as {@code serviceName} at {@code localIp} (4 or 16 bytes, or null). */
  ZipkinProto3Encoder(String serviceName, byte @Nullable [] localIp) {
    byte[] name = serviceName.getBytes(StandardCharsets.UTF_8);
    int value = stringFieldSize(name) + ipFieldSize(localIp);
    byte[] field = new byte[1 + varintSize(value) + value];
    int p = writeByte(field, 0, LOCAL_ENDPOINT_KEY);
    p = writeVarint(field, p, value);
    p = writeString(field, p, SERVICE_NAME_KEY, name);
    writeIp(field, p, localIp);
    this.localEndpoint = field;
  }

  /**
   * This host's address as Brave's tracer reports it: the first site-local address of a network
   * interface, else none.
   */
  static byte @Nullable [] siteLocalAddress() {
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : Collections.list(nic.getInetAddresses())) {
          if (a.isSiteLocalAddress()) {
            return a.getAddress();
          }
        }
      }
    } catch (SocketException | RuntimeException e) {
      return null; // spans carry no local address
    }
    return null;
  }

  /** The bytes {@code span} takes in a message: its field key, length and value. */
  int sizeInMessage(RecordedSpan span) {
    int value = sizeOfValue(span);
    sized = span;
    sizedValue = value;
    return 1 + varintSize(value) + value;
  }

  /**
   * Writes {@code span} as one {@code ListOfSpans} entry into {@code out} at {@code offset} and
   * returns the offset after it; {@code out} must have {@link #sizeInMessage} bytes free. Writing
   * the span just sized does not size it again.
   */
  int write(RecordedSpan span, byte[] out, int offset) {
    int value = sized == span ? sizedValue : sizeOfValue(span);
    sized = null;
    int p = writeByte(out, offset, SPAN_KEY);
    p = writeVarint(out, p, value);
    p = writeId(out, p, TRACE_ID_KEY, span.traceIdHigh, span.traceId);
    if (span.parentId != 0) {
      p = writeId(out, p, PARENT_ID_KEY, 0, span.parentId);
    }
    p = writeId(out, p, ID_KEY, 0, span.spanId);
    if (span.kind != RecordedSpan.LOCAL) {
      p = writeByte(out, p, KIND_KEY);
      p = writeVarint(out, p, span.kind);
    }
    if (!span.name.isEmpty()) {
      p = writeString(out, p, NAME_KEY, nextPending());
    }
    if (span.startMicros != 0) {
      p = writeByte(out, p, TIMESTAMP_KEY);
      for (int i = 0; i < 8; i++) {
        out[p++] = (byte) (span.startMicros >>> 8 * i);
      }
      if (span.durationMicros > 0) {
        p = writeByte(out, p, DURATION_KEY);
        p = writeVarint(out, p, span.durationMicros);
      }
    }
    if (span.serviceName == null) {
      System.arraycopy(localEndpoint, 0, out, p, localEndpoint.length);
      p += localEndpoint.length;
    } else if (!span.serviceName.isEmpty()) {
      byte[] name = nextPending();
      p = writeByte(out, p, LOCAL_ENDPOINT_KEY);
      p = writeVarint(out, p, stringFieldSize(name));
      p = writeString(out, p, SERVICE_NAME_KEY, name);
    }
    if (span.remoteIp != null) {
      p = writeByte(out, p, REMOTE_ENDPOINT_KEY);
      p = writeVarint(out, p, ipFieldSize(span.remoteIp) + portFieldSize(span.remotePort));
      p = writeIp(out, p, span.remoteIp);
      if (span.remotePort != 0) {
        p = writeByte(out, p, PORT_KEY);
        p = writeVarint(out, p, span.remotePort);
      }
    }
    for (int i = 0; i < span.tagCount(); i++) {
      byte[] key = nextPending();
      byte[] tagValue = nextPending();
      p = writeByte(out, p, TAG_KEY);
      p = writeVarint(out, p, stringFieldSize(key) + stringFieldSize(tagValue));
      p = writeString(out, p, ENTRY_KEY_KEY, key);
      p = writeString(out, p, ENTRY_VALUE_KEY, tagValue);
    }
    if (span.debug) {
      p = writeByte(out, p, DEBUG_KEY);
      p = writeByte(out, p, 1);
    }
    return p;
  }

  /** Sizes the span's value, collecting the UTF-8 of its strings for {@link #write}. */
  private int sizeOfValue(RecordedSpan span) {
    pendingCount = 0;
    pendingRead = 0;
    int n = 2 + (span.traceIdHigh != 0 ? 16 : 8);
    if (span.parentId != 0) {
      n += 10;
    }
    n += 10;
    if (span.kind != RecordedSpan.LOCAL) {
      n += 2;
    }
    if (!span.name.isEmpty()) {
      n += stringFieldSize(addPending(span.name));
    }
    if (span.startMicros != 0) {
      n += 9;
      if (span.durationMicros > 0) {
        n += 1 + varintSize(span.durationMicros);
      }
    }
    if (span.serviceName == null) {
      n += localEndpoint.length;
    } else if (!span.serviceName.isEmpty()) {
      int endpoint = stringFieldSize(addPending(span.serviceName));
      n += 1 + varintSize(endpoint) + endpoint;
    }
    if (span.remoteIp != null) {
      int endpoint = ipFieldSize(span.remoteIp) + portFieldSize(span.remotePort);
      n += 1 + varintSize(endpoint) + endpoint;
    }
    String[] tags = span.tags();
    for (int i = 0; i < span.tagCount(); i++) {
      int entry = stringFieldSize(addPending(tags[2 * i])) + stringFieldSize(addPending(tags[2 * i + 1]));
      n += 1 + varintSize(entry) + entry;
    }
    if (span.debug) {
      n += 2;
    }
    return n;
  }

  private byte[] addPending(String s) {
    byte[] b = utf8(s);
    if (pendingCount == pending.length) {
      pending = Arrays.copyOf(pending, pending.length * 2);
    }
    pending[pendingCount++] = b;
    return b;
  }

  private byte[] nextPending() {
    byte[] b = pending[pendingRead];
    pending[pendingRead++] = null; // a large string is not kept past its span
    return b;
  }

  /** The UTF-8 of {@code s}, from the identity cache when it was seen lately. */
  byte[] utf8(String s) {
    if (s.length() > CACHED_MAX_CHARS) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
    int slot = System.identityHashCode(s) & CACHE_SIZE - 1;
    if (cachedStrings[slot] == s) {
      return cachedBytes[slot];
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    cachedStrings[slot] = s;
    cachedBytes[slot] = b;
    return b;
  }

  private static int stringFieldSize(byte[] utf8) {
    return 1 + varintSize(utf8.length) + utf8.length;
  }

  private static int ipFieldSize(byte @Nullable [] ip) {
    return ip == null ? 0 : 2 + ip.length;
  }

  private static int portFieldSize(int port) {
    return port == 0 ? 0 : 1 + varintSize(port);
  }

  static int varintSize(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  private static int writeByte(byte[] out, int p, int b) {
    out[p] = (byte) b;
    return p + 1;
  }

  private static int writeVarint(byte[] out, int p, long v) {
    while ((v & ~0x7FL) != 0) {
      out[p++] = (byte) (v & 0x7F | 0x80);
      v >>>= 7;
    }
    out[p++] = (byte) v;
    return p;
  }

  private static int writeString(byte[] out, int p, int key, byte[] utf8) {
    p = writeByte(out, p, key);
    p = writeVarint(out, p, utf8.length);
    System.arraycopy(utf8, 0, out, p, utf8.length);
    return p + utf8.length;
  }

  /** An id field: 8 bytes big-endian, or 16 when {@code high} is not 0 (a 128-bit trace id). */
  private static int writeId(byte[] out, int p, int key, long high, long low) {
    p = writeByte(out, p, key);
    if (high != 0) {
      p = writeByte(out, p, 16);
      p = writeLong(out, p, high);
    } else {
      p = writeByte(out, p, 8);
    }
    return writeLong(out, p, low);
  }

  private static int writeLong(byte[] out, int p, long v) {
    for (int i = 7; i >= 0; i--) {
      out[p++] = (byte) (v >>> 8 * i);
    }
    return p;
  }

  private static int writeIp(byte[] out, int p, byte @Nullable [] ip) {
    if (ip == null) {
      return p;
    }
    p = writeByte(out, p, ip.length == 4 ? IPV4_KEY : IPV6_KEY);
    p = writeByte(out, p, ip.length);
    System.arraycopy(ip, 0, out, p, ip.length);
    return p + ip.length;
  }
}

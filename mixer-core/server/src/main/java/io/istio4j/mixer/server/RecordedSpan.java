package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.Span;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * One sampled span of Mixer's trace: ids, name, times, an optional remote address and tags, held in
 * plain fields until {@link #finish()} hands it to the {@link ZipkinSpanPipeline}, whose thread
 * encodes it. Handlers see it as the SDK's {@link Span}.
 *
 * <p>This replaces Brave's {@code Tracer} on the request path (docs/RATIONALE.md, "Tracing records
 * its own spans"): Brave registers every span in a weak-keyed map to detect spans never finished and
 * renders the ids as hex strings that the encoder parses back, which together cost more than the rest
 * of tracing. Here the ids stay {@code long}s, timestamps come from one wall-clock read per trace plus
 * {@link System#nanoTime()} offsets (as Brave's per-trace clock), and a finished span is queued once.
 *
 * <p>Tags and errors after {@link #finish()} are ignored: the encoder's thread may be reading it.
 */
final class RecordedSpan implements Span {

  /** Zipkin's span kinds as its proto3 enum numbers; {@link #LOCAL} is none (an in-process span). */
  static final int LOCAL = 0;
  static final int SERVER = 2;

  private final ZipkinSpanPipeline pipeline;
  /** The span of the call this one belongs to (itself for that one): its finished children go with it. */
  private final RecordedSpan root;
  final long traceIdHigh;
  final long traceId;
  final long parentId; // 0: a root span
  final long spanId;
  final boolean debug;
  final int kind;
  final String name;
  /** The service the span is of; null: Mixer's own ({@code istio-mixer} at this host's address). */
  final @Nullable String serviceName;
  /** Epoch microseconds of {@link #baseNanos}, shared by a trace's spans in this process. */
  private final long baseMicros;
  private final long baseNanos;
  final long startMicros;
  long durationMicros; // written before the span is queued
  byte @Nullable [] remoteIp; // 4 or 16 bytes
  int remotePort;
  private String[] tags = NO_TAGS; // key, value, key, value ...; guarded by this until finished
  private int tagCount; // guarded by this until finished
  private boolean finished; // guarded by this
  /** Children finished before this root span: queued with it, in the order they finished. */
  private RecordedSpan[] children = NO_CHILDREN; // guarded by this until finished
  private int childCount; // guarded by this until finished

  private static final RecordedSpan[] NO_CHILDREN = new RecordedSpan[0];

  private static final String[] NO_TAGS = new String[0];

  private RecordedSpan(ZipkinSpanPipeline pipeline, @Nullable RecordedSpan root, long traceIdHigh, long traceId,
      long parentId, long spanId, boolean debug, int kind, String name, @Nullable String serviceName,
      long baseMicros, long baseNanos, long startMicros) {
    this.pipeline = pipeline;
    this.root = root == null ? this : root;
    this.traceIdHigh = traceIdHigh;
    this.traceId = traceId;
    this.parentId = parentId;
    this.spanId = spanId;
    this.debug = debug;
    this.kind = kind;
    this.name = name;
    this.serviceName = serviceName;
    this.baseMicros = baseMicros;
    this.baseNanos = baseNanos;
    this.startMicros = startMicros;
  }

  /** Starts Mixer's span of a call now: {@code parentId} 0 for a new trace. */
  static RecordedSpan start(ZipkinSpanPipeline pipeline, long traceIdHigh, long traceId, long parentId,
      boolean debug, int kind, String name) {
    Instant now = Instant.now();
    long nanos = System.nanoTime();
    long micros = micros(now);
    return new RecordedSpan(pipeline, null, traceIdHigh, traceId, parentId, nextId(), debug, kind, name, null, micros,
        nanos, micros);
  }

  /**
   * A span recorded elsewhere (the tracespan adapter's), finished as given: queue it with {@link
   * ZipkinSpanPipeline#add}.
   */
  static RecordedSpan finished(ZipkinSpanPipeline pipeline, long traceIdHigh, long traceId, long parentId,
      long spanId, String name, String serviceName, long startMicros, long finishMicros) {
    return finished(pipeline, traceIdHigh, traceId, parentId, spanId, false, LOCAL, name, serviceName, startMicros,
        Math.max(finishMicros - startMicros, 0));
  }

  /** A finished span of any kind; {@code serviceName} null for Mixer's own. */
  static RecordedSpan finished(ZipkinSpanPipeline pipeline, long traceIdHigh, long traceId, long parentId,
      long spanId, boolean debug, int kind, String name, @Nullable String serviceName, long startMicros,
      long durationMicros) {
    RecordedSpan s = new RecordedSpan(pipeline, null, traceIdHigh, traceId, parentId, spanId, debug, kind, name,
        serviceName, startMicros, 0, startMicros);
    s.durationMicros = durationMicros;
    s.finished = true;
    return s;
  }

  /** A random, non-zero span (or trace) id. */
  static long nextId() {
    long id;
    do {
      id = ThreadLocalRandom.current().nextLong();
    } while (id == 0);
    return id;
  }

  static long micros(Instant i) {
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
  }

  private long nowMicros() {
    return baseMicros + (System.nanoTime() - baseNanos) / 1_000;
  }

  /** The remote peer of a server span (Zipkin's remote endpoint). */
  void remote(byte[] ip, int port) {
    remoteIp = ip;
    remotePort = port;
  }

  @Override
  public boolean isRecording() {
    return true;
  }

  @Override
  public synchronized Span tag(String key, String value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    if (!finished) {
      putTag(key, value);
    }
    return this;
  }

  /** Adds or replaces a tag; the caller holds the lock or owns the span. */
  void putTag(String key, String value) {
    for (int i = 0; i < tagCount * 2; i += 2) {
      if (tags[i].equals(key)) {
        tags[i + 1] = value;
        return;
      }
    }
    if (tagCount * 2 == tags.length) {
      tags = Arrays.copyOf(tags, Math.max(4, tags.length * 2));
    }
    tags[tagCount * 2] = key;
    tags[tagCount * 2 + 1] = value;
    tagCount++;
  }

  @Override
  public RecordedSpan child(String name) {
    requireNonNull(name, "name");
    return new RecordedSpan(pipeline, root, traceIdHigh, traceId, spanId, nextId(), debug, LOCAL, name, null,
        baseMicros, baseNanos, nowMicros());
  }

  /** Tags {@code error} as Brave does (the message, or the class name without one) unless tagged already. */
  @Override
  public synchronized Span error(Throwable error) {
    requireNonNull(error, "error");
    if (!finished) {
      for (int i = 0; i < tagCount * 2; i += 2) {
        if (tags[i].equals("error")) {
          return this;
        }
      }
      String message = error.getMessage();
      putTag("error", message != null ? message : error.getClass().getSimpleName());
    }
    return this;
  }

  @Override
  public void finish() {
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
      durationMicros = Math.max(nowMicros() - startMicros, 1); // Zipkin reads 0 as "unknown"
    }
    // A call's spans are queued together, with the call's span: one hand-off per call, not per span.
    if (root == this || !root.attach(this)) {
      pipeline.add(this);
    }
  }

  /** Keeps a finished child to go with this root span; false once this one is finished (queued). */
  private synchronized boolean attach(RecordedSpan child) {
    if (finished) {
      return false;
    }
    if (childCount == children.length) {
      children = Arrays.copyOf(children, Math.max(4, childCount * 2));
    }
    children[childCount++] = child;
    return true;
  }

  /** The children queued with this span; read only once finished. */
  RecordedSpan[] children() {
    return children;
  }

  int childCount() {
    return childCount;
  }

  /** The tags as key, value pairs; read only once finished. */
  String[] tags() {
    return tags;
  }

  int tagCount() {
    return tagCount;
  }

  @Override
  public String toString() {
    return "RecordedSpan{" + name + " " + Long.toHexString(traceId) + "/" + Long.toHexString(spanId) + "}";
  }
}

package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import zipkin2.reporter.BytesMessageSender;
import zipkin2.reporter.Encoding;

/** The pipeline between request threads and Zipkin: order, message size, bounds, failures, close. */
class ZipkinSpanPipelineTest {

  /** Records the messages posted; holds each post until {@code gate} opens; fails while {@code down}. */
  private static final class RecordingSender implements BytesMessageSender {
    final List<byte[]> bodies = new ArrayList<>();
    final int maxBytes;
    volatile CountDownLatch gate = new CountDownLatch(0);
    volatile boolean down;
    volatile boolean closed;

    RecordingSender(int maxBytes) {
      this.maxBytes = maxBytes;
    }

    @Override
    public Encoding encoding() {
      return Encoding.PROTO3;
    }

    @Override
    public int messageMaxBytes() {
      return maxBytes;
    }

    @Override
    public int messageSizeInBytes(List<byte[]> spans) {
      return Encoding.PROTO3.listSizeInBytes(spans);
    }

    @Override
    public int messageSizeInBytes(int spanBytes) {
      return Encoding.PROTO3.listSizeInBytes(spanBytes);
    }

    @Override
    public void send(List<byte[]> spans) throws IOException {
      try {
        gate.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        throw new IOException("interrupted", e);
      }
      if (down) {
        throw new IOException("Connection refused");
      }
      synchronized (this) {
        bodies.add(Encoding.PROTO3.encode(spans));
      }
    }

    @Override
    public void close() {
      closed = true;
    }

    /** The span names of every message posted, in order, read back from the proto3 bytes. */
    synchronized List<String> names() {
      List<String> names = new ArrayList<>();
      for (byte[] body : bodies) {
        names.addAll(Proto3.spanNames(body));
      }
      return names;
    }
  }

  /** Just enough of a proto3 reader to list the spans' names in a ListOfSpans. */
  private static final class Proto3 {
    private final byte[] b;
    private int p;

    private Proto3(byte[] b, int p) {
      this.b = b;
      this.p = p;
    }

    static List<String> spanNames(byte[] body) {
      List<String> names = new ArrayList<>();
      Proto3 r = new Proto3(body, 0);
      while (r.p < body.length) {
        assertThat(r.varint()).as("ListOfSpans field 1, length-delimited").isEqualTo(0x0A);
        int end = (int) r.varint() + r.p;
        Proto3 span = new Proto3(body, r.p);
        String name = null;
        while (span.p < end) {
          long key = span.varint();
          switch ((int) key & 7) {
            case 0 -> span.varint();
            case 1 -> span.p += 8;
            case 2 -> {
              int n = (int) span.varint();
              if (key >>> 3 == 5) {
                name = new String(body, span.p, n, StandardCharsets.UTF_8);
              }
              span.p += n;
            }
            default -> throw new AssertionError("wire type " + (key & 7));
          }
        }
        assertThat(span.p).isEqualTo(end);
        names.add(name);
        r.p = end;
      }
      return names;
    }

    private long varint() {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        byte x = b[p++];
        v |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          return v;
        }
      }
    }
  }

  private static final class Counts implements ZipkinSpanPipeline.Metrics {
    final AtomicInteger spans = new AtomicInteger();
    final AtomicInteger dropped = new AtomicInteger();
    final AtomicInteger messages = new AtomicInteger();
    final AtomicInteger messagesDropped = new AtomicInteger();

    @Override
    public void spans(int n) {
      spans.addAndGet(n);
    }

    @Override
    public void spansDropped(int n) {
      dropped.addAndGet(n);
    }

    @Override
    public void message() {
      messages.incrementAndGet();
    }

    @Override
    public void messageDropped(Throwable cause) {
      messagesDropped.incrementAndGet();
    }

    @Override
    public void queued(int spans) {}
  }

  private static ZipkinSpanPipeline pipeline(RecordingSender sender, Counts counts, int maxSpans, int maxMessages) {
    return new ZipkinSpanPipeline(sender, new ZipkinProto3Encoder("istio-mixer", new byte[] {10, 0, 0, 1}), counts,
        maxSpans, maxMessages, TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(2));
  }

  private static RecordedSpan span(ZipkinSpanPipeline p, String name) {
    return RecordedSpan.start(p, 0, 1, 0, false, RecordedSpan.SERVER, name);
  }

  @Test
  void spansArriveInOrderInMessagesNoLargerThanTheLimitAndCloseSendsTheRest() {
    RecordingSender sender = new RecordingSender(1_000);
    Counts counts = new Counts();
    ZipkinSpanPipeline p = pipeline(sender, counts, 10_000, 100);
    for (int i = 0; i < 500; i++) {
      RecordedSpan s = span(p, "s" + i);
      s.child("c" + i).finish();
      s.finish();
    }
    p.close();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      expected.add("c" + i);
      expected.add("s" + i);
    }
    assertThat(sender.names()).isEqualTo(expected);
    synchronized (sender) {
      assertThat(sender.bodies).hasSizeGreaterThan(10).allSatisfy(b -> assertThat(b.length).isLessThanOrEqualTo(1_000));
    }
    assertThat(counts.spans).hasValue(1_000);
    assertThat(counts.dropped).hasValue(0);
    assertThat(counts.messages).hasValue(sender.bodies.size());
    assertThat(sender.closed).isTrue();
    // Closed: a late span is refused and counted.
    span(p, "late").finish();
    assertThat(counts.dropped).hasValue(1);
  }

  @Test
  void aCallsSpansGoTogetherAndAChildFinishedAfterItsCallGoesAlone() {
    RecordingSender sender = new RecordingSender(10_000);
    Counts counts = new Counts();
    ZipkinSpanPipeline p = pipeline(sender, counts, 4, 10);
    RecordedSpan call = span(p, "call");
    RecordedSpan quick = call.child("quick");
    RecordedSpan late = call.child("late"); // an asynchronous handler that outlives the call
    RecordedSpan nested = quick.child("redis"); // an adapter's own span, child of its handler's
    nested.finish();
    quick.finish();
    call.finish();
    assertThat(counts.spans).as("queued as one").hasValue(3);
    late.tag("mixer.status", "DEADLINE_EXCEEDED").finish();
    call.tag("ignored", "finished already");
    p.close();
    assertThat(sender.names()).containsExactlyInAnyOrder("redis", "quick", "call", "late");
    assertThat(counts.spans).hasValue(4);
    assertThat(counts.dropped).hasValue(0);
  }

  @Test
  void errorsAreTaggedAsBraveTagsThemAndAFinishedSpanDoesNotChange() {
    ZipkinSpanPipeline p = pipeline(new RecordingSender(10_000), new Counts(), 100, 10);
    RecordedSpan withMessage = span(p, "a");
    withMessage.error(new IllegalStateException("connection refused"));
    assertThat(Arrays.copyOf(withMessage.tags(), withMessage.tagCount() * 2))
        .containsExactly("error", "connection refused");
    RecordedSpan withoutMessage = span(p, "b");
    withoutMessage.error(new IllegalStateException());
    assertThat(withoutMessage.tags()[1]).isEqualTo("IllegalStateException");
    RecordedSpan tagged = span(p, "c");
    tagged.tag("error", "quota exhausted");
    tagged.error(new IllegalStateException("later")); // an explicit error tag wins, as in Brave
    tagged.finish();
    tagged.tag("after", "finish").error(new IllegalStateException("too late"));
    assertThat(Arrays.copyOf(tagged.tags(), tagged.tagCount() * 2))
        .containsExactly("error", "quota exhausted");
    p.close();
  }

  @Test
  void aSpanLargerThanAMessageIsDroppedAndCountedAndTheOthersAreSent() {
    RecordingSender sender = new RecordingSender(1_000);
    Counts counts = new Counts();
    ZipkinSpanPipeline p = pipeline(sender, counts, 100, 10);
    span(p, "before").finish();
    span(p, "x".repeat(2_000)).finish();
    span(p, "after").finish();
    p.close();
    assertThat(sender.names()).containsExactly("before", "after");
    assertThat(counts.dropped).hasValue(1);
  }

  @Test
  void aStalledZipkinFillsTheBoundsAndFurtherSpansAreDroppedAndCounted() {
    RecordingSender sender = new RecordingSender(200); // a few spans per message
    sender.gate = new CountDownLatch(1); // Zipkin takes nothing until released
    Counts counts = new Counts();
    ZipkinSpanPipeline p = pipeline(sender, counts, 50, 4);
    for (int i = 0; i < 20_000; i++) {
      span(p, "s" + i).finish();
    }
    // At most 50 spans wait to be encoded, 4 messages to be posted and one is being posted: the rest
    // are dropped, and every span is accounted for once Zipkin answers again.
    sender.gate.countDown();
    p.close();
    int delivered = sender.names().size();
    assertThat(counts.dropped.get()).isGreaterThan(19_000);
    assertThat(delivered + counts.dropped.get()).isEqualTo(20_000);
  }

  @Test
  @Timeout(30) // a close that waits on a Zipkin that never answers would hang here
  void closingWhileZipkinNeverAnswersGivesUpAfterTheCloseTimeoutAndCountsWhatIsLost() {
    RecordingSender sender = new RecordingSender(200);
    sender.gate = new CountDownLatch(1); // never opened: every post hangs
    Counts counts = new Counts();
    ZipkinSpanPipeline p = pipeline(sender, counts, 10_000, 4);
    for (int i = 0; i < 1_000; i++) {
      span(p, "s" + i).finish();
    }
    p.close();
    assertThat(sender.closed).isTrue();
    assertThat(sender.names()).isEmpty();
    // The message stuck in its post is neither sent nor counted yet; every other span is dropped.
    assertThat(counts.dropped.get()).isBetween(1_000 - 10, 1_000);
  }

  @Test
  void aDeadZipkinCostsSpansNotCallsAndEverySpanIsCounted() {
    RecordingSender sender = new RecordingSender(1_000);
    sender.down = true;
    Counts counts = new Counts();
    ZipkinSpanPipeline p = pipeline(sender, counts, 10_000, 100);
    for (int i = 0; i < 300; i++) {
      span(p, "s" + i).finish();
    }
    p.close();
    assertThat(sender.names()).isEmpty();
    assertThat(counts.dropped).hasValue(300);
    assertThat(counts.messagesDropped).hasPositiveValue();
  }
}

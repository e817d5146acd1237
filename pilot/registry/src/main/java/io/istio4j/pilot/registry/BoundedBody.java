package io.istio4j.pilot.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import org.jspecify.annotations.Nullable;

/**
 * A response body read into memory up to a limit: a server that sends more (or announces more in
 * {@code Content-Length}) fails the exchange instead of filling the heap. {@link #abort} cancels the
 * transfer, closing the connection, for a caller whose own deadline passed while the body trickles.
 */
final class BoundedBody implements HttpResponse.BodyHandler<byte[]> {
  /** The body was larger than the limit. */
  static final class TooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    TooLargeException(String message) {
      super(message);
    }
  }

  private final long maxBytes;
  private volatile @Nullable Subscriber subscriber;

  BoundedBody(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  public HttpResponse.BodySubscriber<byte[]> apply(HttpResponse.ResponseInfo info) {
    Subscriber s = new Subscriber(maxBytes, info.headers().firstValueAsLong("Content-Length").orElse(-1));
    subscriber = s;
    return s;
  }

  /** Cancels a transfer in progress (the exchange then fails). */
  void abort() {
    Subscriber s = subscriber;
    if (s != null) {
      s.abort();
    }
  }

  private static final class Subscriber implements HttpResponse.BodySubscriber<byte[]> {
    private final long maxBytes;
    private final long announced;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private volatile Flow.@Nullable Subscription subscription;

    Subscriber(long maxBytes, long announced) {
      this.maxBytes = maxBytes;
      this.announced = announced;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (announced > maxBytes) {
        s.cancel();
        result.completeExceptionally(new TooLargeException(
            "the body is " + announced + " bytes (expected: at most " + maxBytes + ")"));
        return;
      }
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (buffer.size() + (long) b.remaining() > maxBytes) {
          Flow.Subscription s = subscription;
          if (s != null) {
            s.cancel();
          }
          result.completeExceptionally(new TooLargeException(
              "the body is more than " + maxBytes + " bytes (expected: at most " + maxBytes + ")"));
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        buffer.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(buffer.toByteArray());
    }

    void abort() {
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
      result.completeExceptionally(new IOException("the transfer was aborted"));
    }
  }
}

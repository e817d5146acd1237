package io.istio4j.adapters.stdio;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An output keeping the lines it was given. It can hold the writer: {@link #block()} makes the
 * next write wait until {@link #release()}; it can fail writes of lines matching a predicate.
 */
final class RecordingOutput implements Output {

  private final List<String> written = Collections.synchronizedList(new ArrayList<>());
  private final List<String> flushed = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private volatile CountDownLatch entered = new CountDownLatch(1);
  private volatile Predicate<String> failing = line -> false;

  /** Makes writes wait until {@link #release()}. */
  void block() {
    gate = new CountDownLatch(1);
    entered = new CountDownLatch(1);
  }

  void release() {
    gate.countDown();
  }

  /** Waits until the writer is inside a write. */
  void awaitWriteEntered() throws InterruptedException {
    if (!entered.await(10, TimeUnit.SECONDS)) {
      throw new AssertionError("the writer never wrote");
    }
  }

  void failLinesContaining(String text) {
    failing = line -> line.contains(text);
  }

  @Override
  public void write(byte[] line) throws IOException {
    String text = new String(line, StandardCharsets.UTF_8);
    entered.countDown();
    try {
      gate.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    }
    if (failing.test(text)) {
      throw new IOException("disk full");
    }
    written.add(text);
  }

  @Override
  public void flush() {
    synchronized (written) {
      flushed.clear();
      flushed.addAll(written);
    }
  }

  @Override
  public void close() {
    flush();
    closed.countDown();
  }

  @Override
  public String name() {
    return "recording";
  }

  /** The lines flushed so far, without their line breaks. */
  List<String> lines() {
    synchronized (flushed) {
      return flushed.stream().map(s -> s.substring(0, s.length() - 1)).toList();
    }
  }

  boolean awaitClosed() throws InterruptedException {
    return closed.await(10, TimeUnit.SECONDS);
  }

  boolean isClosed() {
    return closed.getCount() == 0;
  }
}

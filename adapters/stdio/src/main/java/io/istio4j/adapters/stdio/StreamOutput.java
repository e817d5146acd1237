package io.istio4j.adapters.stdio;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * The process's stdout or stderr. Lines are collected and handed over in one write per flush, so
 * they do not interleave mid-line with what other code (a logging framework) prints to the same
 * stream.
 */
final class StreamOutput implements Output {

  private static final int BATCH_BYTES = 64 * 1024;

  private final OutputStream out;
  private final String name;
  private final ByteArrayOutputStream batch = new ByteArrayOutputStream(BATCH_BYTES);

  StreamOutput(OutputStream out, String name) {
    this.out = requireNonNull(out, "out");
    this.name = requireNonNull(name, "name");
  }

  @Override
  public void write(byte[] line) throws IOException {
    if (batch.size() > 0 && batch.size() + line.length > BATCH_BYTES) {
      flush();
    }
    batch.write(line, 0, line.length);
  }

  @Override
  public void flush() throws IOException {
    if (batch.size() > 0) {
      batch.writeTo(out);
      batch.reset();
    }
    out.flush();
    // PrintStream (System.out) swallows write errors; surface them like any other stream's.
    if (out instanceof PrintStream ps && ps.checkError()) {
      throw new IOException("writing to " + name + " failed");
    }
  }

  @Override
  public void close() throws IOException {
    flush();
  }

  @Override
  public String name() {
    return name;
  }
}

package io.istio4j.adapters.stdio;

import java.io.IOException;

/**
 * Where the writer thread puts lines. Only that thread uses an output, so implementations need no
 * locking; they may buffer until {@link #flush()}.
 */
interface Output {

  /** Writes one whole line, line break included. */
  void write(byte[] line) throws IOException;

  /** Pushes buffered lines out. */
  void flush() throws IOException;

  /** Flushes and releases the output (the process's own streams stay open). */
  void close() throws IOException;

  /** What the output is, for the drop counter's label and log messages: stdout, stderr or the file path. */
  String name();
}

package io.istio4j.codegen;

/** A template the generator cannot turn into Java; the message names the file and the problem. */
final class CodegenException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CodegenException(String message) {
    super(message);
  }
}

package io.istio4j.adapter.template;

/**
 * Compiles the expression of an instance field, supplied by the runtime. {@code B} is the
 * runtime's attribute bag type; generated code never looks inside it.
 *
 * @param <B> the bag type compiled fields evaluate against
 */
public interface FieldCompiler<B> {

  /**
   * Parses and type-checks {@code expression} against the attribute manifest.
   *
   * @throws FieldCompileException with the compiler's message when the expression is not valid
   */
  CompiledField<B> compile(String expression) throws FieldCompileException;

  /** Thrown by {@link #compile} for an expression that does not parse or type-check. */
  final class FieldCompileException extends Exception {
    private static final long serialVersionUID = 1L;

    /** An exception with the compiler's message. */
    public FieldCompileException(String message) {
      super(message);
    }
  }
}

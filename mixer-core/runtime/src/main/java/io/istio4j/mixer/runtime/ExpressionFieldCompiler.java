package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.CompiledField;
import io.istio4j.adapter.template.FieldCompiler;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.expr.Expression;
import io.istio4j.mixer.expr.ExpressionCompiler;
import io.istio4j.mixer.expr.ExpressionException;

/**
 * Compiles template field expressions with Mixer's expression compiler, so generated template code
 * evaluates them against attribute bags.
 *
 * <pre>{@code
 * FieldCompiler<AttributeBag> fields = new ExpressionFieldCompiler(ExpressionCompiler.of(manifest));
 * CompiledInstance<AttributeBag> requestCount = metricTemplate.compile(fqn, param, fields);
 * MetricInstance instance = (MetricInstance) requestCount.build(bag);
 * }</pre>
 */
public final class ExpressionFieldCompiler implements FieldCompiler<AttributeBag> {

  private final ExpressionCompiler compiler;

  /** Compiles against {@code compiler}'s attribute manifest. */
  public ExpressionFieldCompiler(ExpressionCompiler compiler) {
    this.compiler = requireNonNull(compiler, "compiler");
  }

  @Override
  public CompiledField<AttributeBag> compile(String expression) throws FieldCompileException {
    try {
      return new Field(compiler.compile(expression));
    } catch (ExpressionException e) {
      throw new FieldCompileException(e.getMessage());
    }
  }

  private record Field(Expression expression) implements CompiledField<AttributeBag> {
    @Override
    public ValueType type() {
      return expression.type();
    }

    @Override
    public Object evaluate(AttributeBag bag) {
      return expression.evaluate(bag);
    }
  }
}

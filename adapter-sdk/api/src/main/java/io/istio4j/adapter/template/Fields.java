package io.istio4j.adapter.template;

import io.istio4j.adapter.ValueType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Helpers the generated template code calls: config-time type inference and request-time
 * evaluation with upstream's error texts. Not for adapter authors.
 */
public final class Fields {

  private static final String EMPTY_QUOTES = "\"\"";

  private Fields() {}

  /** Compiles a ValueType field: its expression may have any type, which becomes the field's type. */
  public static <B> CompiledField<B> inferred(FieldCompiler<B> compiler, String field, String expression)
      throws InstanceConfigException {
    if (expression.isEmpty()) {
      throw empty(field);
    }
    return compile(compiler, field, expression);
  }

  /** Compiles a field of a declared type: the expression must be non-empty and of that type. */
  public static <B> CompiledField<B> typed(
      FieldCompiler<B> compiler, String field, String expression, ValueType want)
      throws InstanceConfigException {
    if (expression.isEmpty() || expression.equals(EMPTY_QUOTES)) {
      throw empty(field);
    }
    CompiledField<B> compiled = compile(compiler, field, expression);
    if (compiled.type() != want) {
      throw new InstanceConfigException(field, "error type checking for field '" + field
          + "': Evaluated expression type " + compiled.type() + " want " + want);
    }
    return compiled;
  }

  /** Compiles a {@code map<string, ValueType>} field: each entry takes its expression's type. */
  public static <B> CompiledMap<B> inferredMap(
      FieldCompiler<B> compiler, String field, Map<String, String> expressions)
      throws InstanceConfigException {
    return compileMap(compiler, field, expressions, null);
  }

  /** Compiles a map field whose values have a declared type. */
  public static <B> CompiledMap<B> typedMap(
      FieldCompiler<B> compiler, String field, Map<String, String> expressions, ValueType want)
      throws InstanceConfigException {
    return compileMap(compiler, field, expressions, want);
  }

  private static <B> CompiledMap<B> compileMap(
      FieldCompiler<B> compiler, String field, Map<String, String> expressions, ValueType want)
      throws InstanceConfigException {
    String[] keys = new String[expressions.size()];
    @SuppressWarnings("unchecked")
    CompiledField<B>[] values = new CompiledField[expressions.size()];
    int i = 0;
    for (Map.Entry<String, String> e : expressions.entrySet()) {
      String entryField = field + "[" + e.getKey() + "]";
      keys[i] = e.getKey();
      values[i] = want == null
          ? inferred(compiler, entryField, e.getValue())
          : typed(compiler, entryField, e.getValue(), want);
      i++;
    }
    return new CompiledMap<>(field, keys, values);
  }

  private static <B> CompiledField<B> compile(FieldCompiler<B> compiler, String field, String expression)
      throws InstanceConfigException {
    try {
      return compiler.compile(expression);
    } catch (FieldCompiler.FieldCompileException e) {
      throw new InstanceConfigException(
          field, "failed to evaluate expression for field '" + field + "': " + e.getMessage());
    }
  }

  private static InstanceConfigException empty(String field) {
    return new InstanceConfigException(field, "expression for field '" + field + "' cannot be empty");
  }

  /** The inferred types of a compiled map, in the map's order. */
  public static Map<String, ValueType> types(CompiledMap<?> map) {
    Map<String, ValueType> types = new LinkedHashMap<>();
    for (int i = 0; i < map.keys.length; i++) {
      types.put(map.keys[i], map.values[i].type());
    }
    return Collections.unmodifiableMap(types);
  }

  // ---- request time ----

  /** Evaluates a field; a failure becomes upstream's {@code failed to evaluate field ...}. */
  public static <B> Object evaluate(CompiledField<B> compiled, B bag, String field, String instance) {
    try {
      return compiled.evaluate(bag);
    } catch (RuntimeException e) {
      throw new InstanceEvaluationException(field, instance, e);
    }
  }

  /** Evaluates an INT64 field. */
  public static <B> long evaluateLong(CompiledField<B> compiled, B bag, String field, String instance) {
    return (Long) evaluate(compiled, bag, field, instance);
  }

  /** Evaluates a DOUBLE field. */
  public static <B> double evaluateDouble(CompiledField<B> compiled, B bag, String field, String instance) {
    return (Double) evaluate(compiled, bag, field, instance);
  }

  /** Evaluates a BOOL field. */
  public static <B> boolean evaluateBoolean(
      CompiledField<B> compiled, B bag, String field, String instance) {
    return (Boolean) evaluate(compiled, bag, field, instance);
  }

  /** Evaluates every entry of a map field into an immutable map sharing the compiled keys. */
  @SuppressWarnings("unchecked")
  public static <B, V> Map<String, V> evaluateMap(CompiledMap<B> map, B bag, String instance) {
    String[] keys = map.keys;
    if (keys.length == 0) {
      return Map.of();
    }
    CompiledField<B>[] fields = map.values;
    Object[] values = new Object[keys.length];
    for (int i = 0; i < keys.length; i++) {
      try {
        values[i] = fields[i].evaluate(bag);
      } catch (RuntimeException e) {
        throw new InstanceEvaluationException(map.field + "[" + keys[i] + "]", instance, e);
      }
    }
    return (Map<String, V>) new FieldMap(map.index, keys, values);
  }

  /**
   * A compiled map field: keys fixed at config time, one compiled expression per key.
   *
   * @param <B> the bag type
   */
  public static final class CompiledMap<B> {
    final String field;
    final String[] keys;
    final CompiledField<B>[] values;
    final FieldMap.Index index;

    CompiledMap(String field, String[] keys, CompiledField<B>[] values) {
      this.field = field;
      this.keys = keys;
      this.values = values;
      this.index = FieldMap.Index.of(keys);
    }
  }
}

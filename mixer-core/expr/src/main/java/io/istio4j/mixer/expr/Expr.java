package io.istio4j.mixer.expr;

import io.istio4j.adapter.ValueType;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A parsed expression in upstream's prefix form: constants, attribute variables and function
 * calls ({@code a == 2} is {@code EQ($a, 2)}). Its {@code toString()} is the form upstream's error
 * messages print.
 */
sealed interface Expr permits Expr.Const, Expr.Var, Expr.Call {

  /** A literal; {@code text} is how messages print it. */
  record Const(ValueType type, Object value, String text) implements Expr {
    @Override
    public String toString() {
      return text;
    }
  }

  /** An attribute reference. */
  record Var(String name) implements Expr {
    @Override
    public String toString() {
      return "$" + name;
    }
  }

  /** A function ({@code target == null}) or an instance method call. */
  record Call(String fn, Expr target, List<Expr> args) implements Expr {
    @Override
    public String toString() {
      String a = args.stream().map(Object::toString).collect(Collectors.joining(", "));
      return (target == null ? "" : target + ":") + fn + "(" + a + ")";
    }
  }
}

package io.istio4j.mixer.expr;

import io.istio4j.adapter.ValueType;
import java.util.List;
import java.util.Set;

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

  /**
   * A function ({@code target == null}) or an instance method call. {@code LOR}, {@code LAND} and
   * {@code OR} may have more than two arguments: the parser turns a chain {@code a || b || c} into
   * one call, which prints as upstream's nested binary calls {@code LOR(LOR($a, $b), $c)}.
   */
  record Call(String fn, Expr target, List<Expr> args) implements Expr {

    /** The functions of the associative operators, which the parser makes n-ary. */
    static final Set<String> CHAINS = Set.of("LOR", "LAND", "OR", "ADD");

    @Override
    public String toString() {
      StringBuilder out = new StringBuilder();
      if (target != null) {
        out.append(target).append(':');
      }
      if (args.size() > 2 && CHAINS.contains(fn)) {
        out.append((fn + "(").repeat(args.size() - 1)).append(args.get(0));
        for (int i = 1; i < args.size(); i++) {
          out.append(", ").append(args.get(i)).append(')');
        }
        return out.toString();
      }
      out.append(fn).append('(');
      for (int i = 0; i < args.size(); i++) {
        out.append(i == 0 ? "" : ", ").append(args.get(i));
      }
      return out.append(')').toString();
    }
  }
}

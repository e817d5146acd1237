package io.istio4j.mixer.expr;

import static io.istio4j.mixer.expr.ExpressionCompilerTest.COMPILER;
import static io.istio4j.mixer.expr.ExpressionCompilerTest.bag;
import static org.assertj.core.api.Assertions.fail;

import io.istio4j.mixer.attribute.MutableAttributeBag;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Whatever the text, compiling gives an Expression or an ExpressionException, and evaluating a
 * compiled one gives a value or an EvaluationException: never a StackOverflowError, an
 * IndexOutOfBounds or any other Throwable that would escape the config pipeline or a request.
 */
class ExpressionFuzzTest {

  private static final String[] TOKENS = {
      "(", ")", "[", "]", "!", "-", "+", "^", "*", "&", "<-", "||", "&&", "|", "==", "!=", "<", "<=", ">", ">=",
      "=", "/", "%", "<<", ",", ".", ":", "{", "}", ";", " ", "\n",
      "a", "x.y", "test.flag", "request.size", "request.path", "request.headers", "source.ip", "source.user",
      "request.time", "response.duration", "test.ratio", "destination.service", "true", "FALSE",
      "\"x\"", "\"\"", "\"1s\"", "\"10ms\"", "\"*\"", "\"/api/*\"", "\"\\x\"", "\"\\u12\"", "\"\\400\"", "\"\\U0011ffff\"",
      "\"\\", "\"", "'", "'a'", "'ab'", "`raw`", "`", "1", "0", "-1", "0x", "0x1F", "07", "09", "1e", "1.5",
      "1e400", "99999999999999999999", "2i", ".5", "_", "é", "\u0000", "\uD800",
      "ip(", "timestamp(", "match(", "email(", "dnsName(", "uri(", "conditional(", "size(", "emptyStringMap(",
      "\".*\".matches(", "request.path.startsWith(", ".endsWith(", "\"(\".matches(", "f(",
  };

  private static final String[] VALID = {
      "destination.service == \"reviews.default.svc.cluster.local\"",
      "request.headers[\"x-user\"] == \"jason\" && (source.user | \"anon\") == \"anon\"",
      "match(request.path, \"/api/*\") || request.size < 1024",
      "(request.size | 0) == 0 && !test.flag",
      "source.ip == ip(\"10.0.0.1\") || \"^/api\".matches(request.path)",
      "conditional(test.flag, request.path, \"x\") == \"y\" || response.duration > \"10ms\"",
      "size(request.headers) > 1 && request.time <= timestamp(\"2017-11-21T10:15:30Z\")",
  };

  @Test
  void anyTextCompilesOrIsAnExpressionException() {
    Random random = new Random(20261202L);
    List<String> inputs = new ArrayList<>();
    for (int i = 0; i < 3000; i++) { // token soup
      StringBuilder b = new StringBuilder();
      for (int n = random.nextInt(12); n >= 0; n--) {
        b.append(TOKENS[random.nextInt(TOKENS.length)]).append(random.nextInt(3) == 0 ? " " : "");
      }
      inputs.add(b.toString());
    }
    for (int i = 0; i < 1000; i++) { // garbage characters
      char[] c = new char[random.nextInt(40)];
      for (int k = 0; k < c.length; k++) {
        c[k] = random.nextInt(4) == 0 ? (char) random.nextInt(0x10000) : (char) (32 + random.nextInt(95));
      }
      inputs.add(new String(c));
    }
    for (int i = 0; i < 2000; i++) { // valid expressions, mutated
      StringBuilder b = new StringBuilder(VALID[random.nextInt(VALID.length)]);
      for (int m = random.nextInt(3); m >= 0; m--) {
        int at = random.nextInt(b.length() + 1);
        switch (random.nextInt(3)) {
          case 0 -> b.insert(at, TOKENS[random.nextInt(TOKENS.length)]);
          case 1 -> b.delete(at, Math.min(b.length(), at + 1 + random.nextInt(4)));
          default -> b.setCharAt(Math.min(at, b.length() - 1), TOKENS[random.nextInt(TOKENS.length)].charAt(0));
        }
      }
      inputs.add(b.toString());
    }
    for (String open : new String[] {"(", "!", "-", "[", "f(", "ip(", "a[", "conditional(test.flag, ", "*", "<-"}) {
      for (int depth : new int[] {100, 255, 256, 257, 1000, 20_000}) { // deep, opened and never closed, or closed
        inputs.add(open.repeat(depth) + "test.flag");
        inputs.add(open.repeat(depth) + "test.flag" + ")".repeat(depth));
        inputs.add(open.repeat(depth) + "test.flag" + "]".repeat(depth));
      }
    }
    for (String op : new String[] {" || ", " && ", " | ", " == ", " + ", " < ", ".", "[0]", "()", " - "}) {
      for (int length : new int[] {2, 300, 50_000}) { // long
        inputs.add("test.flag" + (op + "test.flag").repeat(length));
        inputs.add("request.size" + (op + "1").repeat(length));
      }
    }
    inputs.add("\"" + "1s".repeat(100_000) + "\" == response.duration");
    inputs.add("\"" + "\\x".repeat(10) + "\"");
    inputs.add("x".repeat(1_000_000));

    MutableAttributeBag full = bag();
    MutableAttributeBag empty = new MutableAttributeBag();
    for (String text : inputs) {
      Expression e;
      try {
        e = COMPILER.compile(text);
      } catch (ExpressionException expected) {
        continue;
      } catch (Throwable t) {
        fail("compiling " + abbreviate(text) + " threw " + t, t);
        return;
      }
      for (MutableAttributeBag bag : List.of(full, empty)) {
        try {
          e.evaluate(bag);
        } catch (EvaluationException expected) {
          // a missing attribute, a bad conversion: an expected outcome
        } catch (Throwable t) {
          fail("evaluating " + abbreviate(text) + " threw " + t, t);
        }
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? "'" + s + "'" : "'" + s.substring(0, 200) + "...' (" + s.length() + " chars)";
  }
}

package io.istio4j.mixer.expr;

import static io.istio4j.mixer.expr.ExpressionCompilerTest.COMPILER;
import static io.istio4j.mixer.expr.ExpressionCompilerTest.bag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.mixer.attribute.MutableAttributeBag;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** Issue 12: long chains compile and evaluate in loops; deep nesting stops at a clear limit. */
class DeepAndLongExpressionTest {

  static final int LONG = 100_000;
  static final int MAX = ExpressionCompiler.MAX_DEPTH;

  private static String chain(int n, String op, IntFunction<String> term) {
    StringBuilder out = new StringBuilder(n * 24);
    for (int i = 0; i < n; i++) {
      out.append(i == 0 ? "" : op).append(term.apply(i));
    }
    return out.toString();
  }

  private static String nest(int n, String open, String inner, String close) {
    return open.repeat(n) + inner + close.repeat(n);
  }

  @Test
  void aLongOrChainCompilesAndEvaluatesInALoop() throws Exception {
    String text = chain(LONG, " || ", i -> "request.size == " + (i + 1)) + " || request.size == 0";
    Expression e = COMPILER.compile(text);
    assertThat(e.evaluateBoolean(bag())).isTrue();
    assertThat(e.evaluateBoolean(bag().set("request.size", -1L))).isFalse();
    assertThat(e.evaluateBoolean(bag().set("request.size", 77_777L))).isTrue();
  }

  @Test
  void aLongAndChainEvaluatesEveryOperand() throws Exception {
    Expression e = COMPILER.compile(chain(LONG, " && ", i -> "test.flag"));
    assertThat(e.evaluateBoolean(bag())).isTrue();
    assertThat(e.evaluateBoolean(bag().set("test.flag", false))).isFalse();
    Expression failsLast = COMPILER.compile(chain(LONG, " && ", i -> "test.flag") + " && source.user == \"x\"");
    assertThatThrownBy(() -> failsLast.evaluateBoolean(bag().set("test.flag", false)))
        .isInstanceOf(EvaluationException.class).hasMessage("lookup failed: 'source.user'");
  }

  @Test
  void aLongDefaultChainTakesTheFirstPresentOperand() throws Exception {
    Expression e = COMPILER.compile(chain(LONG, " | ", i -> "request.headers[\"h" + i + "\"]") + " | \"none\"");
    assertThat(e.evaluate(bag())).isEqualTo("none");
    MutableAttributeBag bag = bag();
    bag.set("request.headers", Map.of("h99998", "found"));
    assertThat(e.evaluate(bag)).isEqualTo("found");
  }

  @Test
  void chainsMixedWithOtherOperatorsKeepGoPrecedence() throws Exception {
    assertThat(ExpressionCompilerTest.eval("test.flag && false || test.flag && true || false")).isEqualTo(true);
    assertThat(ExpressionCompilerTest.eval("false || false && test.flag || false")).isEqualTo(false);
    assertThat(ExpressionCompilerTest.eval("(source.user | \"a\") == \"a\" && (source.user | source.user | \"b\") == \"b\""))
        .isEqualTo(true);
  }

  @Test
  void aTypeErrorInAChainNamesUpstreamsNestedCall() {
    assertThatThrownBy(() -> COMPILER.compile("test.flag || test.flag || request.size"))
        .hasMessage("LOR(LOR($test.flag, $test.flag), $request.size) arg 2 ($request.size) typeError got INT64,"
            + " expected BOOL");
    assertThatThrownBy(() -> COMPILER.compile("request.size || test.flag || test.flag"))
        .hasMessage("LOR($request.size, $test.flag) arg 1 ($request.size) typeError got INT64, expected BOOL");
    assertThatThrownBy(() -> COMPILER.compile("request.size | 1 | \"x\""))
        .hasMessage("OR(OR($request.size, 1), \"x\") arg 2 (\"x\") typeError got STRING, expected INT64");
  }

  @Test
  void aTypeErrorAtTheEndOfAHugeChainGivesABoundedMessage() {
    String text = chain(LONG, " || ", i -> "test.flag") + " || request.size";
    assertThatThrownBy(() -> COMPILER.compile(text))
        .isInstanceOf(ExpressionException.class)
        .hasMessageStartingWith("LOR(LOR(LOR(")
        .hasMessageEndingWith("arg 2 ($request.size) typeError got INT64, expected BOOL")
        .message().hasSizeLessThan(ExpressionException.MAX_MESSAGE_LENGTH + 100);
  }

  @Test
  void aLongSumSaysTheLanguageHasNoPlus() {
    assertThatThrownBy(() -> COMPILER.compile(chain(LONG, " + ", i -> "request.path") + " == \"x\""))
        .hasMessage("unknown function: ADD");
  }

  @Test
  void twentyThousandParenthesesAreRejectedAtTheLimit() {
    assertThatThrownBy(() -> COMPILER.compile(nest(20_000, "(", "test.flag", ")")))
        .isInstanceOf(ExpressionException.class)
        .hasMessageEndingWith("expression nests deeper than 256 levels at column 257");
  }

  @Test
  void everyWayToNestCountsTowardsTheLimit() {
    String[] tooDeep = {
        "!".repeat(20_000) + "test.flag",
        "-".repeat(MAX + 1) + "1",
        nest(MAX + 1, "conditional(test.flag, ", "1", ", 2)"),
        nest(MAX + 1, "request.headers[", "\"k\"", "]"),
        nest(MAX + 1, "size(", "\"x\"", ")"),
        chain(MAX + 1, " == ", i -> "test.flag"),
        chain(MAX + 1, " < ", i -> "1"),
        chain(MAX + 1, ".", i -> "a"),
        "request.headers" + "[\"k\"]".repeat(MAX + 1),
        "f" + "()".repeat(MAX + 1),
        nest(MAX + 1, "test.flag || (", "test.flag", ")"),
        "(\n" + nest(MAX, "(", "1", ")") + "\n)",
    };
    for (String text : tooDeep) {
      assertThatThrownBy(() -> COMPILER.compile(text)).as(text.substring(0, 40))
          .isInstanceOf(ExpressionException.class)
          .hasMessageContaining("expression nests deeper than 256 levels at ");
    }
    assertThatThrownBy(() -> COMPILER.compile("(\n" + nest(MAX, "(", "1", ")") + "\n)"))
        .hasMessageContaining("at line 2, column 256");
  }

  @Test
  void nestingUpToTheLimitCompilesAndEvaluatesOnASmallStack() throws Exception {
    String[] deep = {
        "!!" + nest(MAX - 3, "(", "test.flag", ")"),
        "!".repeat(MAX - 2) + "test.flag", // the selector in test.flag is a level too
        nest(MAX / 2 - 1, "conditional(test.flag, ", "true", ", false)"),
        nest(MAX - 2, "test.flag && (", "test.flag", ")"),
        nest(MAX - 4, "(source.user | ", "\"x\"", ")") + " == \"x\"",
        chain(MAX - 1, " == ", i -> "test.flag"),
    };
    for (String text : deep) {
      Expression e = COMPILER.compile(text);
      // gRPC's transport threads run expressions; give this one a quarter of the JVM's default stack.
      AtomicReference<Object> result = new AtomicReference<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      Thread t = new Thread(null, () -> {
        try {
          result.set(e.evaluate(bag()));
          done.complete(null);
        } catch (Throwable failure) {
          done.completeExceptionally(failure);
        }
      }, "small-stack", 256 * 1024);
      t.start();
      done.get(30, TimeUnit.SECONDS);
      assertThat(result.get()).as(text.substring(0, 40)).isIn(true, false, 5L);
    }
  }

  @Test
  void aChainOfChainsNestsOnlyAsDeepAsItsParentheses() throws Exception {
    // 200 parenthesised groups, each a 500-term chain: deep enough to matter, within the limit.
    String text = nest(200, "(test.flag && " + chain(500, " && ", i -> "test.flag") + " && ", "test.flag", ")");
    assertThat(COMPILER.compile(text).evaluateBoolean(bag())).isTrue();
  }

  @Test
  void hasEqualityConjunctSeesEveryConjunctOfAChain() {
    String text = chain(1000, " && ", i -> "request.size == " + i) + " && context.protocol == \"tcp\"";
    assertThat(ExpressionCompiler.hasEqualityConjunct(text, "context.protocol", "tcp")).isTrue();
    assertThat(ExpressionCompiler.hasEqualityConjunct(nest(20_000, "(", "a", ")"), "a", "b")).isFalse();
  }
}

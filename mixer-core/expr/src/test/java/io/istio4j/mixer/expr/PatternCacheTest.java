package io.istio4j.mixer.expr;

import static io.istio4j.mixer.expr.ExpressionCompilerTest.MANIFEST;
import static io.istio4j.mixer.expr.ExpressionCompilerTest.bag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 13: a pattern that is not a constant is compiled once per distinct pattern, not per evaluation. */
class PatternCacheTest {

  private final PatternCache cache = new PatternCache(PatternCache.MAX_ENTRIES);
  private final ExpressionCompiler compiler = new ExpressionCompiler(MANIFEST, cache);

  @Test
  void aPatternFromAnAttributeIsCompiledOncePerDistinctPattern() throws Exception {
    Expression e = compiler.compile("source.user.matches(request.path)");
    for (int i = 0; i < 1000; i++) {
      assertThat(e.evaluateBoolean(bag().set("source.user", "^/api/v" + (i % 3)))).isEqualTo(i % 3 == 1);
    }
    assertThat(cache.compilations()).isEqualTo(3);
  }

  @Test
  void anInvalidPatternIsCompiledOnceAndFailsEveryEvaluation() throws Exception {
    Expression e = compiler.compile("source.user.matches(request.path)");
    for (int i = 0; i < 100; i++) {
      assertThatThrownBy(() -> e.evaluate(bag().set("source.user", "(unclosed")))
          .isInstanceOf(EvaluationException.class)
          .hasMessageStartingWith("invalid regular expression \"(unclosed\": ");
    }
    assertThat(cache.compilations()).isEqualTo(1);
  }

  @Test
  void aConstantPatternNeverReachesTheCache() throws Exception {
    Expression e = compiler.compile("\"^/api\".matches(request.path)");
    for (int i = 0; i < 10; i++) {
      e.evaluate(bag());
    }
    assertThat(cache.compilations()).isZero();
  }

  @Test
  void threadsMeetingANewPatternTogetherCompileItOnce() throws Exception {
    Expression e = compiler.compile("source.user.matches(request.path)");
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      done.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < 500; i++) {
          e.evaluate(bag().set("source.user", "v" + (i % 50) + "$"));
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(cache.compilations()).isEqualTo(50);
  }

  @Test
  void theCacheIsBoundedInEntriesAndPatternLength() throws Exception {
    PatternCache small = new PatternCache(8);
    Expression e = new ExpressionCompiler(MANIFEST, small).compile("source.user.matches(request.path)");
    for (int i = 0; i < 100; i++) {
      e.evaluate(bag().set("source.user", "p" + i));
      assertThat(small.size()).isLessThanOrEqualTo(8);
    }
    String huge = "a".repeat(PatternCache.MAX_PATTERN_LENGTH + 1);
    e.evaluate(bag().set("source.user", huge));
    assertThat(small.size()).isLessThanOrEqualTo(8);
    assertThat(small.compilations()).isEqualTo(101);
  }
}

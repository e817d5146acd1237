package io.istio4j.mixer.runtime;


import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Span;
import io.istio4j.adapter.Status;
import io.istio4j.mixer.runtime.testing.TestParams;
import io.istio4j.template.checknothing.CheckNothingAsyncHandler;
import io.istio4j.template.checknothing.CheckNothingHandler;
import io.istio4j.template.checknothing.CheckNothingHandlerBuilder;
import io.istio4j.template.checknothing.CheckNothingInstance;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryHandlerBuilder;
import io.istio4j.template.listentry.ListEntryInstance;
import io.istio4j.template.metric.MetricAsyncHandler;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricHandlerBuilder;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.quota.QuotaAsyncHandler;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import io.istio4j.template.quota.QuotaInstance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Adapters for runtime tests. {@code testcheck} (checknothing, listentry, quota): DENY mode denies
 * with "denied by test"; ALLOW mode allows; label {@code throw} makes it throw, label {@code
 * sleepMillis} makes it slow; quota grants at most {@code validUseCount}. {@code testmetric}
 * records every batch. {@code testslow} is testcheck declared blocking. {@code testport} is testcheck
 * whose handler binds the port in label {@code port} (and fails to build while it is in use).
 * {@code testthrow} throws from its builder: label {@code validate} or {@code build} names what to
 * throw ({@code StackOverflowError}, {@code OutOfMemoryError}, anything else an
 * IllegalStateException).
 */
final class TestAdapters {

  static final Map<String, List<List<MetricInstance>>> BATCHES = new ConcurrentHashMap<>();
  static final List<QuotaArgs> QUOTA_ARGS = new CopyOnWriteArrayList<>();
  static final List<String> CLOSED = new CopyOnWriteArrayList<>();
  static final AtomicInteger BUILDS = new AtomicInteger();
  /** Stages the {@code testasync} handler returned, in call order; tests complete them. */
  static final BlockingQueue<CompletableFuture<?>> PENDING =
      new LinkedBlockingQueue<>();
  /** Threads the handlers ran on, in call order. */
  static final List<String> THREADS = new CopyOnWriteArrayList<>();
  /** Handlers labelled {@code barrier} wait here for one another: they pass only when run in parallel. */
  static volatile CyclicBarrier barrier = new CyclicBarrier(2);
  /** What the caller's context carried to the thread a handler ran on. */
  static final ThreadLocal<String> CALLER = new ThreadLocal<>();
  static final List<String> CALLERS = new CopyOnWriteArrayList<>();
  static final AtomicInteger INTERRUPTED = new AtomicInteger();
  /** With label {@code span}: the span each call saw as {@code Env.currentSpan()}; it adds a child "backend". */
  static final List<Span> SPANS = new CopyOnWriteArrayList<>();

  private TestAdapters() {}

  static void reset() {
    BATCHES.clear();
    QUOTA_ARGS.clear();
    CLOSED.clear();
    BUILDS.set(0);
    PENDING.clear();
    THREADS.clear();
    CALLERS.clear();
    INTERRUPTED.set(0);
    SPANS.clear();
    barrier = new CyclicBarrier(2);
  }

  static Adapters adapters(Templates templates) {
    return Adapters.of(templates, () -> check("testcheck", false), () -> check("testslow", true), () ->
        AdapterInfo.builder("testasync")
            .supportedTemplates("checknothing", "quota", "metric")
            .defaultConfig(TestParams.getDefaultInstance())
            .builderFactory(AsyncBuilder::new)
            .build(), () ->
        AdapterInfo.builder("testmetric")
            .supportedTemplates("metric")
            .defaultConfig(TestParams.getDefaultInstance())
            .builderFactory(MetricBuilder::new)
            .build(), () ->
        AdapterInfo.builder("testport")
            .supportedTemplates("checknothing", "listentry", "quota")
            .defaultConfig(TestParams.newBuilder().setValidUseCount(1000).build())
            .builderFactory(PortBuilder::new)
            .build(), () ->
        AdapterInfo.builder("testthrow")
            .supportedTemplates("checknothing", "listentry", "quota")
            .defaultConfig(TestParams.getDefaultInstance())
            .builderFactory(ThrowingBuilder::new)
            .build());
  }

  static void throwNamed(String what) {
    switch (what) {
      case "StackOverflowError":
        throw new StackOverflowError();
      case "OutOfMemoryError":
        throw new OutOfMemoryError("Java heap space");
      default:
        throw new IllegalStateException(what);
    }
  }

  /** Throws what its labels say from validate or build. */
  static final class ThrowingBuilder extends CheckBuilder {
    private TestParams params;

    ThrowingBuilder() {
      super("testthrow");
    }

    @Override
    public void setAdapterConfig(TestParams config) {
      super.setAdapterConfig(config);
      params = config;
    }

    @Override
    public ConfigErrors validate() {
      if (params.getLabelsMap().containsKey("validate")) {
        throwNamed(params.getLabelsMap().get("validate"));
      }
      return super.validate();
    }

    @Override
    public Handler build(Env env) {
      if (params.getLabelsMap().containsKey("build")) {
        throwNamed(params.getLabelsMap().get("build"));
      }
      return super.build(env);
    }
  }

  /** A check handler holding a listening socket on its configured port, as the prometheus adapter does. */
  static final class PortBuilder extends CheckBuilder {
    private TestParams params;

    PortBuilder() {
      super("testport");
    }

    @Override
    public void setAdapterConfig(TestParams config) {
      super.setAdapterConfig(config);
      params = config;
    }

    @Override
    public Handler build(Env env) {
      ServerSocket socket;
      try {
        socket = new ServerSocket();
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(params.getLabelsMap().get("port"))));
      } catch (IOException e) {
        throw new UncheckedIOException("port " + params.getLabelsMap().get("port") + ": " + e.getMessage(), e);
      }
      BUILDS.incrementAndGet();
      return new CheckHandler("testport", params) {
        @Override
        public void close() {
          try {
            socket.close();
          } catch (IOException ignored) {
            // closing a listening socket does not fail in a way that matters here
          }
          super.close();
        }
      };
    }
  }

  private static AdapterInfo check(String name, boolean blocking) {
    AdapterInfo.Builder b = AdapterInfo.builder(name)
        .description("test check adapter")
        .supportedTemplates("checknothing", "listentry", "quota")
        .defaultConfig(TestParams.newBuilder().setValidUseCount(1000).build())
        .builderFactory(() -> new CheckBuilder(name));
    return (blocking ? b.blocking() : b).build();
  }

  static class CheckBuilder implements CheckNothingHandlerBuilder<TestParams>,
      ListEntryHandlerBuilder<TestParams>, QuotaHandlerBuilder<TestParams> {
    private final String name;
    private TestParams params;

    CheckBuilder(String name) {
      this.name = name;
    }

    @Override
    public void setAdapterConfig(TestParams config) {
      params = config;
    }

    @Override
    public ConfigErrors validate() {
      ConfigErrors e = new ConfigErrors();
      if (params.getValidUseCount() < 0) {
        e.add("validUseCount", "must be >= 0");
      }
      return e;
    }

    @Override
    public Handler build(Env env) {
      BUILDS.incrementAndGet();
      return new CheckHandler(name, params, env);
    }
  }

  static class CheckHandler implements CheckNothingHandler, ListEntryHandler, QuotaHandler {
    private final String name;
    private final TestParams params;

    private final Env env;

    CheckHandler(String name, TestParams params) {
      this(name, params, null);
    }

    CheckHandler(String name, TestParams params, Env env) {
      this.name = name;
      this.params = params;
      this.env = env;
    }

    private CheckResult result(String what) {
      THREADS.add(Thread.currentThread().getName());
      CALLERS.add(String.valueOf(CALLER.get()));
      if (env != null && params.getLabelsMap().containsKey("span")) {
        Span span = env.currentSpan();
        SPANS.add(span);
        span.child("backend").tag("backend.key", "value").finish();
      }
      if (params.getLabelsMap().containsKey("barrier")) {
        try {
          barrier.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("the other handler of the call never ran alongside this one");
        }
      }
      if (params.getLabelsMap().containsKey("throw")) {
        String message = params.getLabelsMap().get("throw");
        throw message.isEmpty() ? new NullPointerException() : new IllegalStateException(message);
      }
      if (params.getLabelsMap().containsKey("sleepMillis")) {
        try {
          Thread.sleep(Long.parseLong(params.getLabelsMap().get("sleepMillis")));
        } catch (InterruptedException e) {
          INTERRUPTED.incrementAndGet();
          Thread.currentThread().interrupt();
        }
      }
      Duration d = Duration.ofSeconds(params.getValidDuration().getSeconds(), params.getValidDuration().getNanos());
      Status s = params.getMode() == TestParams.Mode.DENY
          ? Status.of(Status.Code.PERMISSION_DENIED, "denied by test " + what) : Status.OK;
      return CheckResult.of(s, d, params.getValidUseCount());
    }

    @Override
    public CheckResult handleCheckNothing(CheckNothingInstance instance) {
      return result(instance.name());
    }

    @Override
    public CheckResult handleListEntry(ListEntryInstance instance) {
      return result(instance.value());
    }

    @Override
    public QuotaResult handleQuota(QuotaInstance instance, QuotaArgs args) {
      result(instance.name());
      QUOTA_ARGS.add(args);
      return QuotaResult.granted(Math.min(args.amount(), params.getValidUseCount()), Duration.ofSeconds(1));
    }

    @Override
    public void close() {
      CLOSED.add(name + ":" + params.getLabelsMap().getOrDefault("id", ""));
    }
  }

  static final class MetricBuilder implements MetricHandlerBuilder<TestParams> {
    private TestParams params;

    @Override
    public void setAdapterConfig(TestParams config) {
      params = config;
    }

    @Override
    public ConfigErrors validate() {
      return new ConfigErrors();
    }

    @Override
    public Handler build(Env env) {
      BUILDS.incrementAndGet();
      String id = params.getLabelsMap().getOrDefault("id", "metric");
      boolean fail = params.getMode() == TestParams.Mode.DENY;
      return new MetricHandler() {
        @Override
        public void handleMetric(List<MetricInstance> instances) {
          if (fail) {
            throw new IllegalStateException("backend down");
          }
          BATCHES.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(List.copyOf(instances));
        }

        @Override
        public void close() {
          CLOSED.add("testmetric:" + id);
        }
      };
    }
  }

  static final class AsyncBuilder implements CheckNothingHandlerBuilder<TestParams>,
      QuotaHandlerBuilder<TestParams>, MetricHandlerBuilder<TestParams> {
    @Override
    public void setAdapterConfig(TestParams config) {}

    @Override
    public ConfigErrors validate() {
      return new ConfigErrors();
    }

    @Override
    public Handler build(Env env) {
      return new AsyncHandler();
    }
  }

  /** Returns stages the test completes through {@link #PENDING}; never blocks. */
  static final class AsyncHandler implements CheckNothingAsyncHandler,
      QuotaAsyncHandler, MetricAsyncHandler {

    private static <T> CompletableFuture<T> pending() {
      THREADS.add(Thread.currentThread().getName());
      CompletableFuture<T> f = new CompletableFuture<>();
      PENDING.add(f);
      return f;
    }

    @Override
    public CompletionStage<CheckResult> handleCheckNothingAsync(CheckNothingInstance instance) {
      return pending();
    }

    @Override
    public CompletionStage<QuotaResult> handleQuotaAsync(QuotaInstance instance, QuotaArgs args) {
      QUOTA_ARGS.add(args);
      return pending();
    }

    @Override
    public CompletionStage<Void> handleMetricAsync(List<MetricInstance> instances) {
      return pending();
    }

    @Override
    public void close() {
      CLOSED.add("testasync");
    }
  }
}

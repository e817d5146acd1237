package io.istio4j.mixer.runtime;

import com.google.protobuf.Duration;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.Instance;
import io.istio4j.adapter.LogText;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.RateLimitedLogger;
import io.istio4j.adapter.Span;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.adapter.template.InstanceEvaluationException;
import io.istio4j.adapter.template.Template;
import io.istio4j.adapter.template.Variety;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.CompressedAttributeBag;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.runtime.Snapshot.Action;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.PreconditionResult;
import io.istio4j.mixer.v1.ReferencedAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls handlers for requests. How a handler is called is decided once, when the snapshot is built
 * ({@link Action#mode()}): in-memory handlers inline on the request's thread, blocking handlers on a
 * bounded worker pool, asynchronous handlers through the stage they return. The calls of one request
 * form a {@link Group}: they run in parallel under one deadline, the smaller of the handler timeout
 * and the caller's deadline, and a cancelled or expired call stops what is still running and
 * dispatches nothing more. A request that touches only in-memory handlers never leaves its thread
 * and makes no group.
 */
final class Dispatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /** How the runtime calls a handler. */
  public enum Mode {
    /** Answers from memory: called on the request's thread. */
    INLINE,
    /** May wait on I/O: called on the worker pool. */
    BLOCKING,
    /** Returns a stage: called on the request's thread, completed by the adapter. */
    ASYNC
  }

  private static final Duration ZERO = Duration.getDefaultInstance();
  /** What a client is told when a handler threw: the exception itself is for the server log. */
  static final String INTERNAL_ERROR = "internal error (see server log)";

  private final RateLimitedLogger handlerErrors = RateLimitedLogger.of(log);
  private final RateLimitedLogger instanceErrors = RateLimitedLogger.of(log);

  private final RuntimeOptions options;
  private final RuntimeMetrics metrics;
  private final ThreadPoolExecutor workers;
  private final ScheduledThreadPoolExecutor timer;

  Dispatcher(RuntimeOptions options, RuntimeMetrics metrics) {
    this.options = options;
    this.metrics = metrics;
    int n = options.adapterWorkerPoolSize();
    this.workers = new ThreadPoolExecutor(n, n, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(n * 16),
        named("adapter-worker"));
    this.workers.allowCoreThreadTimeOut(true);
    this.timer = new ScheduledThreadPoolExecutor(1, named("dispatch-deadline"));
    this.timer.setRemoveOnCancelPolicy(true);
  }

  static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  // ---- Check ----

  /**
   * Answers a Check with snapshot {@code s}: the CHECK actions that apply, then, when they all
   * allow, the quotas. Instances are built on the calling thread (the bag is not thread-safe);
   * handlers run as their mode says. The future is already complete when every handler involved
   * is in-memory.
   */
  CompletableFuture<CheckResponse> check(Snapshot s, DecodedCheckRequest request, CallContext context) {
    CompressedAttributeBag bag = request.attributes();
    PreconditionResult.Builder pre = PreconditionResult.newBuilder();
    List<Action> actions;
    try {
      actions = s.resolve(bag, Variety.CHECK);
    } catch (ResolutionException e) {
      metrics.resolveError("Check");
      pre.setStatus(status(Status.Code.INTERNAL, e.getMessage()))
          .setValidDuration(MixerRuntime.DEFAULT_VALID_DURATION).setValidUseCount(MixerRuntime.DEFAULT_VALID_USE_COUNT)
          .setReferencedAttributes(bag.references().encode(request.globalWordCount()));
      return CompletableFuture.completedFuture(CheckResponse.newBuilder().setPrecondition(pre).build());
    }
    Group group = null;
    Object[] results = null; // per instance: a CheckResult or a CompletableFuture of one
    Action[] owners = null;
    Span server = context.span();
    boolean traced = server.isRecording(); // one virtual call when tracing is off
    if (!actions.isEmpty()) {
      int n = 0;
      for (Action a : actions) {
        n += a.instances().size();
      }
      results = new Object[n];
      owners = new Action[n];
      int i = 0;
      for (Action a : actions) {
        for (CompiledInstance<AttributeBag> ci : a.instances()) {
          owners[i] = a;
          Instance instance;
          try {
            instance = ci.build(bag);
          } catch (InstanceEvaluationException e) {
            instanceFailed("Check", a, ci, e);
            results[i++] = failed(e.getMessage());
            continue;
          }
          Handler h = a.handler().handler();
          Template t = a.template();
          if (a.mode() == Mode.INLINE) {
            try {
              results[i] = traced ? inlineTraced(a, handlerSpan(server, a, -1), () -> t.handleCheck(h, instance))
                  : inline(a, () -> t.handleCheck(h, instance));
            } catch (HandlerFailure f) {
              results[i] = failed(f.getMessage());
            }
          } else {
            group = group != null ? group : group(context);
            results[i] = group.call(a, traced ? handlerSpan(server, a, -1) : Span.NOOP,
                () -> t.handleCheck(h, instance), () -> t.handleCheckAsync(h, instance));
          }
          i++;
        }
      }
    }
    pre.setReferencedAttributes(bag.references().encode(request.globalWordCount()));
    // Quota instances are built now, on this thread, and dispatched once the checks allow.
    QuotaWork[] quotas = request.quotas().isEmpty() ? null : quotaWork(s, request, bag);
    if (group == null) {
      return finishCheck(actions, results, owners, pre, quotas, null, context);
    }
    Group g = group;
    Object[] r = results;
    Action[] o = owners;
    CompletableFuture<CheckResponse> answer = allDone(results)
        .thenCompose(v -> finishCheck(actions, r, o, pre, quotas, g, context));
    answer.whenComplete((v, e) -> g.finish());
    return answer;
  }

  private CompletableFuture<CheckResponse> finishCheck(List<Action> actions, Object[] results, Action[] owners,
      PreconditionResult.Builder pre, QuotaWork[] quotas, Group group, CallContext context) {
    boolean ok;
    if (actions.isEmpty()) {
      pre.setStatus(com.google.rpc.Status.getDefaultInstance())
          .setValidDuration(MixerRuntime.DEFAULT_VALID_DURATION).setValidUseCount(MixerRuntime.DEFAULT_VALID_USE_COUNT);
      ok = true;
    } else {
      ok = combineChecks(results, owners, pre);
    }
    CheckResponse.Builder response = CheckResponse.newBuilder();
    if (!ok || quotas == null) {
      return CompletableFuture.completedFuture(response.setPrecondition(pre).build());
    }
    Group g = group;
    Span server = context.span();
    boolean traced = server.isRecording();
    for (QuotaWork q : quotas) {
      if (q.action == null || q.failure != null) {
        continue;
      }
      Action a = q.action;
      Handler h = a.handler().handler();
      Template t = a.template();
      Instance instance = q.instance;
      QuotaArgs args = q.args;
      if (a.mode() == Mode.INLINE) {
        try {
          q.result = traced ? inlineTraced(a, handlerSpan(server, a, args.amount()), () -> t.handleQuota(h, instance, args))
              : inline(a, () -> t.handleQuota(h, instance, args));
        } catch (HandlerFailure f) {
          q.result = f;
        }
      } else {
        g = g != null ? g : group(context);
        q.result = g.call(a, traced ? handlerSpan(server, a, args.amount()) : Span.NOOP,
            () -> t.handleQuota(h, instance, args), () -> t.handleQuotaAsync(h, instance, args));
      }
    }
    if (g == null || g == group) {
      if (g == null || allComplete(quotas)) {
        return CompletableFuture.completedFuture(combineQuotas(quotas, pre, response));
      }
      return allQuotasDone(quotas).thenApply(v -> combineQuotas(quotas, pre, response));
    }
    Group own = g;
    CompletableFuture<CheckResponse> answer = allQuotasDone(quotas).thenApply(v -> combineQuotas(quotas, pre, response));
    answer.whenComplete((v, e) -> own.finish());
    return answer;
  }

  private boolean combineChecks(Object[] results, Action[] owners, PreconditionResult.Builder pre) {
    CheckResult combined = null;
    StringBuilder messages = null;
    Status.Code firstBad = null;
    for (int i = 0; i < results.length; i++) {
      CheckResult r = checkResult(results[i]);
      combined = combined == null ? r : combined.combine(r);
      if (!r.status().isOk()) {
        if (firstBad == null) {
          firstBad = r.status().code();
          messages = new StringBuilder();
        } else {
          messages.append(", ");
        }
        messages.append(owners[i].handler().fqn()).append(':').append(r.status().message());
      }
    }
    pre.setValidDuration(duration(combined.validDuration())).setValidUseCount(combined.validUseCount());
    if (firstBad == null) {
      pre.setStatus(com.google.rpc.Status.getDefaultInstance());
      return true;
    }
    pre.setStatus(status(firstBad, messages.toString()));
    return false;
  }

  @SuppressWarnings("unchecked")
  private CheckResult checkResult(Object r) {
    if (r instanceof CheckResult c) {
      return c;
    }
    CompletableFuture<CheckResult> f = (CompletableFuture<CheckResult>) r;
    try {
      return f.getNow(null);
    } catch (CompletionException e) {
      return failed(e.getCause() != null ? e.getCause().getMessage() : "handler failed");
    } catch (CancellationException e) {
      return failed("call cancelled");
    }
  }

  /** A failed check's result under the failure policy: never cacheable. */
  private CheckResult failed(String message) {
    return options.failurePolicy() == RuntimeOptions.FailurePolicy.OPEN
        ? CheckResult.of(io.istio4j.adapter.Status.OK, java.time.Duration.ZERO, 0)
        : CheckResult.of(io.istio4j.adapter.Status.of(Status.Code.INTERNAL, message), java.time.Duration.ZERO, 0);
  }

  // ---- quotas ----

  /** One quota of a Check: what applies to it, built on the request's thread, and its result. */
  private static final class QuotaWork {
    final String name;
    final long amount;
    Action action; // null: no rule applies, granted as asked
    Instance instance;
    QuotaArgs args;
    String failure; // the instance could not be built, or resolution failed
    boolean resolveFailed;
    ReferencedAttributes references;
    Object result; // QuotaResult, HandlerFailure, or a CompletableFuture of a QuotaResult

    QuotaWork(String name, long amount) {
      this.name = name;
      this.amount = amount;
    }
  }

  private QuotaWork[] quotaWork(Snapshot s, DecodedCheckRequest request, CompressedAttributeBag bag) {
    QuotaWork[] work = new QuotaWork[request.quotas().size()];
    int i = 0;
    for (Map.Entry<String, DecodedCheckRequest.QuotaParams> e : request.quotas().entrySet()) {
      bag.references().clear();
      QuotaWork q = new QuotaWork(e.getKey(), e.getValue().amount());
      work[i++] = q;
      List<Action> actions;
      try {
        actions = s.resolve(bag, Variety.QUOTA);
      } catch (ResolutionException ex) {
        metrics.resolveError("Quota");
        q.failure = ex.getMessage();
        q.resolveFailed = true;
        return Arrays.copyOf(work, i); // as upstream: quotas after it are not answered
      }
      if (!actions.isEmpty() && !actions.get(0).instances().isEmpty()) {
        if (actions.size() > 1 || actions.get(0).instances().size() > 1) {
          log.debug("quota {}: more than one quota instance applies; the first is used, as upstream",
              LogText.escape(q.name));
        }
        Action a = actions.get(0);
        q.action = a;
        // No deduplication without the client's id: an empty id would make every call a replay.
        String dedup = request.deduplicationId().isEmpty() ? "" : request.deduplicationId() + q.name;
        q.args = new QuotaArgs(dedup, q.amount, e.getValue().bestEffort());
        try {
          q.instance = a.instances().get(0).build(bag);
        } catch (InstanceEvaluationException ex) {
          instanceFailed("Quota", a, a.instances().get(0), ex);
          q.failure = ex.getMessage();
        }
      }
      q.references = bag.references().encode(request.globalWordCount());
    }
    return work;
  }

  private CheckResponse combineQuotas(QuotaWork[] quotas, PreconditionResult.Builder pre,
      CheckResponse.Builder response) {
    for (QuotaWork q : quotas) {
      if (q.resolveFailed) {
        pre.setStatus(status(Status.Code.INTERNAL, q.failure));
        break;
      }
      CheckResponse.QuotaResult.Builder result = CheckResponse.QuotaResult.newBuilder();
      if (q.action == null) {
        result.setGrantedAmount(q.amount).setValidDuration(MixerRuntime.DEFAULT_VALID_DURATION);
      } else {
        QuotaResult r;
        String problem = q.failure != null ? q.failure : failureOf(q.result);
        if (problem == null) {
          r = quotaResult(q.result);
        } else if (options.failurePolicy() == RuntimeOptions.FailurePolicy.OPEN) {
          r = new QuotaResult(io.istio4j.adapter.Status.OK, java.time.Duration.ZERO, q.amount);
        } else {
          pre.setStatus(status(Status.Code.INTERNAL, q.action.handler().fqn() + ":" + problem))
              .setValidDuration(ZERO).setValidUseCount(0);
          break;
        }
        if (!r.status().isOk()) {
          pre.setStatus(status(r.status().code(), q.action.handler().fqn() + ":" + r.status().message()));
        }
        result.setGrantedAmount(r.amount()).setValidDuration(duration(r.validDuration()));
      }
      result.setReferencedAttributes(q.references);
      response.putQuotas(q.name, result.build());
    }
    return response.setPrecondition(pre).build();
  }

  /** The failure message of a quota call's result, or null when it succeeded. */
  private static String failureOf(Object result) {
    if (result instanceof HandlerFailure f) {
      return f.getMessage();
    }
    if (result instanceof CompletableFuture<?> f && f.isCompletedExceptionally()) {
      try {
        f.getNow(null);
      } catch (CompletionException e) {
        return e.getCause() != null ? e.getCause().getMessage() : "handler failed";
      } catch (CancellationException e) {
        return "call cancelled";
      }
    }
    return null;
  }

  private static QuotaResult quotaResult(Object result) {
    return result instanceof QuotaResult r ? r : (QuotaResult) ((CompletableFuture<?>) result).getNow(null);
  }

  private static boolean allComplete(QuotaWork[] quotas) {
    for (QuotaWork q : quotas) {
      if (q.result instanceof CompletableFuture<?> f && !f.isDone()) {
        return false;
      }
    }
    return true;
  }

  private static CompletableFuture<Void> allQuotasDone(QuotaWork[] quotas) {
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (QuotaWork q : quotas) {
      if (q.result instanceof CompletableFuture<?> f) {
        pending.add(f);
      }
    }
    return settled(pending);
  }

  private static CompletableFuture<Void> allDone(Object[] results) {
    List<CompletableFuture<?>> pending = new ArrayList<>();
    for (Object r : results) {
      if (r instanceof CompletableFuture<?> f) {
        pending.add(f);
      }
    }
    return settled(pending);
  }

  /** Completes normally once every future has completed, whichever way. */
  private static CompletableFuture<Void> settled(List<CompletableFuture<?>> futures) {
    CompletableFuture<?>[] handled = new CompletableFuture<?>[futures.size()];
    for (int i = 0; i < handled.length; i++) {
      handled[i] = futures.get(i).handle((v, e) -> null);
    }
    return CompletableFuture.allOf(handled);
  }

  /** Counts an instance that could not be built, by template and instance, and logs it (rate limited). */
  private void instanceFailed(String method, Action a, CompiledInstance<AttributeBag> ci,
      InstanceEvaluationException e) {
    metrics.instanceError(a.template().name(), ci.name());
    if (e.isInternal()) {
      instanceErrors.warn("{}: instance {} not built: {}", method, ci.name(), e.getMessage(), e.getCause());
    } else {
      instanceErrors.warn("{}: instance {} not built: {}", method, ci.name(), e.getMessage());
    }
  }

  // ---- Report ----

  /**
   * Processes every record of a Report with snapshot {@code s}: instances of each action are built
   * into one batch per action (on this thread), then the batches are dispatched in parallel. Throws
   * for a record that cannot be decoded or resolved; the future fails with {@link DispatchException}
   * naming the handlers that failed.
   */
  CompletableFuture<Void> report(Snapshot s, DecodedReportRequest request, CallContext context) {
    List<Action> order = new ArrayList<>();
    Map<Action, List<Instance>> batches = new IdentityHashMap<>();
    Span server = context.span();
    boolean traced = server.isRecording();
    // One span for the record batch (resolving rules and building instances for every record), as
    // upstream's "Attributes <i>" spans but one per request rather than one per record.
    Span records = traced ? server.child("Report records") : Span.NOOP;
    int[] recordCount = new int[1];
    try {
      forEachRecord(s, request, order, batches, recordCount);
    } catch (RuntimeException e) {
      records.error(e);
      throw e;
    } finally {
      if (traced) {
        records.tag("mixer.records", Integer.toString(recordCount[0])).finish();
      }
    }
    StringBuilder failures = null;
    Group group = null;
    List<Action> pendingActions = null;
    List<CompletableFuture<Boolean>> pending = null;
    for (Action a : order) {
      List<Instance> batch = batches.get(a);
      Handler h = a.handler().handler();
      Template t = a.template();
      Span span = traced ? handlerSpan(server, a, -1).tag("mixer.instances", Integer.toString(batch.size()))
          : Span.NOOP;
      if (a.mode() == Mode.INLINE) {
        try {
          Supplier<Boolean> work = () -> {
            t.handleReport(h, batch);
            return Boolean.TRUE;
          };
          if (traced) {
            inlineTraced(a, span, work);
          } else {
            inline(a, work);
          }
        } catch (HandlerFailure f) {
          failures = (failures == null ? new StringBuilder() : failures.append(", "))
              .append(a.handler().fqn()).append(':').append(f.getMessage());
        }
      } else {
        group = group != null ? group : group(context);
        pending = pending != null ? pending : new ArrayList<>();
        pendingActions = pendingActions != null ? pendingActions : new ArrayList<>();
        pendingActions.add(a);
        pending.add(group.call(a, span, () -> {
          t.handleReport(h, batch);
          return Boolean.TRUE;
        }, () -> t.handleReportAsync(h, batch).thenApply(v -> Boolean.TRUE)));
      }
    }
    return finishReport(group, failures, pendingActions, pending);
  }

  private void forEachRecord(Snapshot s, DecodedReportRequest request, List<Action> order,
      Map<Action, List<Instance>> batches, int[] recordCount) {
    request.forEachRecord(bag -> {
      recordCount[0]++;
      List<Action> actions;
      try {
        actions = s.resolve(bag, Variety.REPORT);
      } catch (ResolutionException e) {
        metrics.resolveError("Report");
        throw e;
      }
      for (Action a : actions) {
        List<Instance> batch = batches.get(a);
        for (CompiledInstance<AttributeBag> ci : a.instances()) {
          try {
            Instance instance = ci.build(bag);
            if (batch == null) {
              batch = new ArrayList<>();
              batches.put(a, batch);
              order.add(a);
            }
            batch.add(instance);
          } catch (InstanceEvaluationException e) {
            instanceFailed("Report", a, ci, e); // the record is skipped for this instance only
          }
        }
      }
    });
  }

  private CompletableFuture<Void> finishReport(Group group, StringBuilder failures, List<Action> pendingActions,
      List<CompletableFuture<Boolean>> pending) {
    if (group == null) {
      return failures == null ? CompletableFuture.completedFuture(null)
          : CompletableFuture.failedFuture(new DispatchException(failures.toString()));
    }
    Group g = group;
    StringBuilder inlineFailures = failures;
    List<Action> actionsOut = pendingActions;
    List<CompletableFuture<Boolean>> futures = pending;
    CompletableFuture<Void> done = settled(new ArrayList<>(futures)).thenCompose(v -> {
      StringBuilder all = inlineFailures;
      for (int i = 0; i < futures.size(); i++) {
        String problem = failureOf(futures.get(i));
        if (problem != null) {
          all = (all == null ? new StringBuilder() : all.append(", "))
              .append(actionsOut.get(i).handler().fqn()).append(':').append(problem);
        }
      }
      return all == null ? CompletableFuture.<Void>completedFuture(null)
          : CompletableFuture.<Void>failedFuture(new DispatchException(all.toString()));
    });
    done.whenComplete((v, e) -> g.finish());
    return done;
  }

  private static com.google.rpc.Status status(Status.Code code, String message) {
    return com.google.rpc.Status.newBuilder().setCode(code.number()).setMessage(message).build();
  }

  private static Duration duration(java.time.Duration d) {
    return d.isZero() ? ZERO : Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  /** Calls an in-memory handler on this thread, counting and timing the call. */
  <T> T inline(Action a, Supplier<T> work) throws HandlerFailure {
    long start = System.nanoTime();
    try {
      T result = work.get();
      if (result == null) {
        throw new HandlerFailure("handler returned no result", HandlerFailure.Kind.ERROR);
      }
      a.stats().ok.inc();
      return result;
    } catch (HandlerFailure e) {
      count(a, e);
      throw e;
    } catch (RuntimeException | LinkageError | StackOverflowError e) {
      HandlerFailure f = failure(a, e);
      count(a, f);
      throw f;
    } finally {
      a.stats().seconds.observe((System.nanoTime() - start) / 1e9);
    }
  }

  // ---- tracing ----

  /** The tag naming a handler call's outcome: a google.rpc code name such as OK or PERMISSION_DENIED. */
  static final String STATUS_TAG = "mixer.status";

  /**
   * A started span for one handler call, child of the request's server span, named as upstream's:
   * {@code <template>:<handler FQN>(<adapter>)}; {@code quotaAmount} is tagged when not negative.
   */
  static Span handlerSpan(Span server, Action a, long quotaAmount) {
    Span span = server.child(a.spanName());
    if (quotaAmount >= 0) {
      span.tag("mixer.quota.amount", amount(quotaAmount));
    }
    return span;
  }

  private static final String[] SMALL_AMOUNTS = new String[128];

  static {
    for (int i = 0; i < SMALL_AMOUNTS.length; i++) {
      SMALL_AMOUNTS[i] = Integer.toString(i);
    }
  }

  /** A quota amount as a tag value; the usual small ones without a new string per traced call. */
  static String amount(long n) {
    return n >= 0 && n < SMALL_AMOUNTS.length ? SMALL_AMOUNTS[(int) n] : Long.toString(n);
  }

  /** {@link #inline} with {@code span} current for the handler ({@code Env.currentSpan()}) and then finished. */
  <T> T inlineTraced(Action a, Span span, Supplier<T> work) throws HandlerFailure {
    Span previous = CurrentSpan.enter(span);
    try {
      T result = inline(a, work);
      finishSpan(span, result, null);
      return result;
    } catch (HandlerFailure f) {
      finishSpan(span, null, f);
      throw f;
    } finally {
      CurrentSpan.restore(previous);
    }
  }

  /** Tags a handler call's span with its outcome and finishes it. */
  static void finishSpan(Span span, Object result, Throwable failure) {
    if (failure != null) {
      Throwable f = unwrap(failure);
      String code = f instanceof HandlerFailure h && h.kind == HandlerFailure.Kind.TIMEOUT ? "DEADLINE_EXCEEDED"
          : f instanceof HandlerFailure h && h.kind == HandlerFailure.Kind.CANCELLED ? "CANCELLED" : "INTERNAL";
      span.tag(STATUS_TAG, code).error(f);
    } else if (result instanceof CheckResult c) {
      span.tag(STATUS_TAG, c.status().code().name());
    } else if (result instanceof QuotaResult q) {
      span.tag(STATUS_TAG, q.status().code().name()).tag("mixer.quota.granted", amount(q.amount()));
    } else {
      span.tag(STATUS_TAG, "OK");
    }
    span.finish();
  }

  /** Starts the group of non-inline calls of one request. */
  Group group(CallContext context) {
    long timeout = options.handlerTimeout().toNanos();
    long now = System.nanoTime();
    long deadline = now + timeout;
    long callerDeadline = context.deadlineNanos();
    if (callerDeadline != Long.MAX_VALUE && callerDeadline - deadline < 0) {
      deadline = callerDeadline;
    }
    return new Group(context, deadline);
  }

  /**
   * The non-inline handler calls of one request, bounded by one deadline. Every call's future
   * completes: with the result, or exceptionally with a {@link HandlerFailure}.
   */
  final class Group {
    private final CallContext context;
    private final long deadline;
    private final List<Call<?>> calls = new ArrayList<>(4); // guarded by this
    private ScheduledFuture<?> expiry; // guarded by this
    private boolean over; // guarded by this: expired or cancelled

    private Group(CallContext context, long deadline) {
      this.context = context;
      this.deadline = deadline;
    }

    /**
     * Calls a blocking or asynchronous handler; the future completes with its result or a
     * {@link HandlerFailure}.
     */
    <T> CompletableFuture<T> call(Action a, Supplier<T> blocking, Supplier<? extends CompletionStage<T>> async) {
      return call(a, Span.NOOP, blocking, async);
    }

    /**
     * As {@link #call(Action, Supplier, Supplier)}, with {@code span} current while the handler is
     * called and finished with the call's outcome.
     */
    <T> CompletableFuture<T> call(Action a, Span span, Supplier<T> untracedBlocking,
        Supplier<? extends CompletionStage<T>> untracedAsync) {
      Call<T> call = new Call<>(a);
      Supplier<T> blocking = untracedBlocking;
      Supplier<? extends CompletionStage<T>> async = untracedAsync;
      if (span.isRecording()) {
        call.result.whenComplete((v, e) -> finishSpan(span, v, e));
        blocking = () -> withSpan(span, untracedBlocking);
        async = () -> withSpan(span, untracedAsync);
      }
      HandlerFailure refused = admit(call);
      if (refused != null) {
        call.fail(refused);
        return call.result;
      }
      if (a.mode() == Mode.ASYNC) {
        CompletionStage<T> stage;
        try {
          stage = async.get();
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
          call.fail(failure(a, e));
          return call.result;
        }
        if (stage == null) {
          call.fail(new HandlerFailure("handler returned no result", HandlerFailure.Kind.ERROR));
          return call.result;
        }
        call.stage = stage;
        stage.whenComplete((v, e) -> {
          if (e != null) {
            call.fail(failure(a, unwrap(e)));
          } else if (v == null) {
            call.fail(new HandlerFailure("handler returned no result", HandlerFailure.Kind.ERROR));
          } else {
            call.succeed(v);
          }
        });
      } else {
        try {
          Supplier<T> work = blocking;
          call.work = workers.submit(context.wrap(() -> {
            if (call.result.isDone()) {
              return; // expired or cancelled while queued
            }
            try {
              T v = work.get();
              if (v == null) {
                call.fail(new HandlerFailure("handler returned no result", HandlerFailure.Kind.ERROR));
              } else {
                call.succeed(v);
              }
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
              call.fail(failure(a, e));
            }
          }));
        } catch (RejectedExecutionException e) {
          call.fail(new HandlerFailure("adapter worker pool is full (" + options.adapterWorkerPoolSize()
              + " threads, " + workers.getQueue().size() + " queued)", HandlerFailure.Kind.ERROR));
        }
      }
      return call.result;
    }

    /** Registers a call; a failure when the group is over or the deadline has passed. */
    private synchronized HandlerFailure admit(Call<?> call) {
      if (over || context.isCancelled()) {
        return new HandlerFailure("call cancelled", HandlerFailure.Kind.CANCELLED);
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return new HandlerFailure(timeoutMessage(), HandlerFailure.Kind.TIMEOUT);
      }
      if (calls.isEmpty() && expiry == null) {
        expiry = timer.schedule(() -> end(HandlerFailure.Kind.TIMEOUT), left, TimeUnit.NANOSECONDS);
        context.onCancel(() -> end(HandlerFailure.Kind.CANCELLED));
      }
      calls.add(call);
      return null;
    }

    /** Fails every call still running and stops it. */
    private void end(HandlerFailure.Kind kind) {
      List<Call<?>> running;
      synchronized (this) {
        if (over) {
          return;
        }
        over = true;
        running = new ArrayList<>(calls);
      }
      String message = kind == HandlerFailure.Kind.TIMEOUT ? timeoutMessage() : "call cancelled";
      for (Call<?> c : running) {
        if (c.fail(new HandlerFailure(message, kind))) {
          c.stop();
        }
      }
    }

    private String timeoutMessage() {
      long callerDeadline = context.deadlineNanos();
      if (callerDeadline != Long.MAX_VALUE && callerDeadline == deadline) {
        return "no answer within the caller's deadline";
      }
      return "no answer within " + options.handlerTimeout().toMillis() + " ms";
    }

    /** Ends the group once the request is answered: its deadline timer is no longer needed. */
    synchronized void finish() {
      over = true;
      if (expiry != null) {
        expiry.cancel(false);
      }
    }
  }

  private static <T> T withSpan(Span span, Supplier<T> work) {
    Span previous = CurrentSpan.enter(span);
    try {
      return work.get();
    } finally {
      CurrentSpan.restore(previous);
    }
  }

  /** One non-inline handler call. */
  private static final class Call<T> {
    final Action action;
    final CompletableFuture<T> result = new CompletableFuture<>();
    final long start = System.nanoTime();
    volatile Future<?> work;
    volatile CompletionStage<T> stage;

    Call(Action action) {
      this.action = action;
    }

    void succeed(T value) {
      if (result.complete(value)) {
        action.stats().ok.inc();
        action.stats().seconds.observe((System.nanoTime() - start) / 1e9);
      }
    }

    boolean fail(HandlerFailure f) {
      if (result.completeExceptionally(f)) {
        count(action, f);
        action.stats().seconds.observe((System.nanoTime() - start) / 1e9);
        return true;
      }
      return false;
    }

    /** Interrupts a worker still running the call, or tells an adapter its stage is no longer wanted. */
    void stop() {
      Future<?> w = work;
      if (w != null) {
        w.cancel(true);
      }
      CompletionStage<T> s = stage;
      if (s != null) {
        try {
          s.toCompletableFuture().cancel(true);
        } catch (UnsupportedOperationException e) {
          // a stage that cannot be cancelled finishes on its own; its answer is ignored
        }
      }
    }
  }

  private static void count(Action a, HandlerFailure f) {
    (f.kind == HandlerFailure.Kind.TIMEOUT ? a.stats().timeout : a.stats().error).inc();
    if (log.isDebugEnabled()) {
      log.debug("handler {} failed: {}", a.handler().fqn(), f.getMessage());
    }
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException
        || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /**
   * A failure of a handler call. A handler that threw has a bug or met an unexpected backend
   * failure: the exception goes to the server log (rate limited, with its stack trace) and the
   * client is told only that it happened, since exception messages name Java classes and internals.
   * A handler that wants to tell clients something returns a Status.
   */
  HandlerFailure failure(Action a, Throwable e) {
    if (e instanceof HandlerFailure f) {
      return f;
    }
    if (e instanceof CancellationException) {
      return new HandlerFailure("call cancelled", HandlerFailure.Kind.CANCELLED);
    }
    handlerErrors.warn("handler {} threw", a.handler().fqn(), e);
    return new HandlerFailure(INTERNAL_ERROR, HandlerFailure.Kind.ERROR);
  }

  @Override
  public void close() {
    workers.shutdownNow();
    timer.shutdownNow();
  }
}

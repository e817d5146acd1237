package io.istio4j.adapter.testkit;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.FileOutputPolicy;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.Internal;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.GlobalDictionary;
import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.ConfigStatusJson;
import io.istio4j.mixer.runtime.MixerRuntime;
import io.istio4j.mixer.runtime.ObjectStatus;
import io.istio4j.mixer.runtime.RuntimeOptions;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.runtime.config.MemoryStore;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An in-memory Mixer for adapter tests: Mixer's own runtime, with a config and the adapters under
 * test. Calls go through the same path as the gRPC API (attributes are encoded as a client would
 * and decoded by Mixer), without a network.
 *
 * <pre>{@code
 * try (TestMixer mixer = TestMixer.builder()
 *     .adapters(new DenierAdapter())
 *     .config(Files.readString(Path.of("src/test/resources/deny.yaml")))
 *     .start()) {
 *   TestMixer.CheckOutcome out = mixer.check(Map.of("destination.service", "ratings.default.svc.cluster.local"));
 *   assertThat(out.code()).isEqualTo(7);
 * }
 * }</pre>
 */
public final class TestMixer implements AutoCloseable {

  private static final int GLOBAL_WORDS = GlobalDictionary.SIZE;
  private final MixerRuntime runtime;
  private final PrometheusRegistry registry;
  private int requests;

  private TestMixer(MixerRuntime runtime, PrometheusRegistry registry) {
    this.runtime = runtime;
    this.registry = registry;
  }

  /** Starts describing a test Mixer. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * What a Check answered.
   *
   * @param code the precondition's status code (0 OK, 7 PERMISSION_DENIED, ...)
   * @param message the status message
   * @param validDuration how long the answer may be cached, as Go prints durations ({@code 5s})
   * @param validUseCount how many uses the answer may be cached for
   * @param referenced the attributes the answer depended on, {@code name CONDITION} or {@code
   *     map[key] CONDITION}, sorted
   * @param quotas the quota results by quota name
   */
  public record CheckOutcome(int code, String message, String validDuration, int validUseCount,
      List<String> referenced, Map<String, QuotaOutcome> quotas) {}

  /**
   * A quota's result.
   *
   * @param granted the amount granted
   * @param validDuration how long the grant is valid
   * @param referenced the attributes the allocation depended on
   */
  public record QuotaOutcome(long granted, String validDuration, List<String> referenced) {}

  /**
   * What a Report answered.
   *
   * @param error the error Mixer returned, or null for OK
   */
  public record ReportOutcome(String error) {}

  /** Sends a Check with {@code attributes}. */
  public CheckOutcome check(Map<String, ?> attributes) {
    return check(attributes, Map.of());
  }

  /** Sends a Check with {@code attributes} asking for quotas (name to amount), all or nothing. */
  public CheckOutcome check(Map<String, ?> attributes, Map<String, Long> quotas) {
    CheckRequest.Builder b = CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(attributes, GLOBAL_WORDS))
        .setGlobalWordCount(GLOBAL_WORDS)
        .setDeduplicationId("testmixer-" + (++requests));
    quotas.forEach((name, amount) -> b.putQuotas(name, CheckRequest.QuotaParams.newBuilder().setAmount(amount).build()));
    CheckResponse r = runtime.check(RequestDecoder.decodeCheck(b.build().toByteArray()));
    Map<String, QuotaOutcome> q = new TreeMap<>();
    r.getQuotasMap().forEach((name, result) -> q.put(name, new QuotaOutcome(result.getGrantedAmount(),
        duration(result.getValidDuration()), referenced(result.getReferencedAttributes()))));
    return new CheckOutcome(r.getPrecondition().getStatus().getCode(), r.getPrecondition().getStatus().getMessage(),
        duration(r.getPrecondition().getValidDuration()), r.getPrecondition().getValidUseCount(),
        referenced(r.getPrecondition().getReferencedAttributes()), q);
  }

  /** Sends one Report holding {@code records}, delta-encoded as clients batch them. */
  @SafeVarargs
  public final ReportOutcome report(Map<String, ?>... records) {
    List<byte[]> batches = new ArrayList<>();
    ReportBatchEncoder batch = new ReportBatchEncoder(GLOBAL_WORDS);
    for (Map<String, ?> record : records) {
      if (!batch.add(record)) { // a record that drops an attribute starts a new Report, as clients do
        batches.add(batch.build().toByteArray());
        batch = new ReportBatchEncoder(GLOBAL_WORDS);
        batch.add(record);
      }
    }
    batches.add(batch.build().toByteArray());
    for (byte[] request : batches) {
      try {
        runtime.report(RequestDecoder.decodeReport(request));
      } catch (RuntimeException e) {
        return new ReportOutcome(e.getMessage());
      }
    }
    return new ReportOutcome(null);
  }

  /** The config objects that were rejected, one line each. */
  public List<String> rejected() {
    List<String> out = new ArrayList<>();
    for (ObjectStatus s : runtime.snapshot().statuses()) {
      if (s.state() == ObjectStatus.State.REJECTED) {
        out.add(s.describe());
      }
    }
    return out;
  }

  /**
   * The sum of the adapter counter's series that have all of the given labels, as {@link
   * TestEnv#counterValue} reads it; 0 if there is no such counter or series.
   *
   * <pre>{@code
   * assertThat(mixer.counterValue("acme_denials", "reason", "blocked")).isEqualTo(1);
   * }</pre>
   *
   * @param name the name the counter was created with ({@code AdapterMetrics.counter})
   * @param labels label names and values, alternating
   */
  public double counterValue(String name, String... labels) {
    return MetricValues.counter(registry, name, labels);
  }

  /**
   * The sum of the adapter gauge's series that have all of the given labels; 0 if there is none.
   *
   * @param name the name the gauge was created with ({@code AdapterMetrics.gauge})
   * @param labels label names and values, alternating
   */
  public double gaugeValue(String name, String... labels) {
    return MetricValues.gauge(registry, name, labels);
  }

  /**
   * Mixer's config status page ({@code /debug/config}) as JSON: every config object with its state
   * and, for handlers, the error an adapter reported with {@code Env.reportError}.
   */
  public String configStatus() {
    return ConfigStatusJson.render(runtime);
  }

  /** Mixer's runtime, for what the kit does not wrap. Not API: its type is internal to Mixer. */
  @Internal
  public MixerRuntime runtime() {
    return runtime;
  }

  /** Closes every handler. */
  @Override
  public void close() {
    runtime.close();
  }

  private static String duration(com.google.protobuf.Duration d) {
    return GoValues.duration(java.time.Duration.ofSeconds(d.getSeconds(), d.getNanos()));
  }

  private static List<String> referenced(ReferencedAttributes refs) {
    List<String> out = new ArrayList<>();
    for (ReferencedAttributes.AttributeMatch m : refs.getAttributeMatchesList()) {
      String name = word(refs, m.getName());
      out.add(m.getMapKey() == 0 ? name + " " + m.getCondition()
          : name + "[" + word(refs, m.getMapKey()) + "] " + m.getCondition());
    }
    out.sort(null);
    return out;
  }

  private static String word(ReferencedAttributes refs, int index) {
    return index >= 0 ? GlobalDictionary.word(index) : refs.getWords(-index - 1);
  }

  /** Describes a test Mixer. */
  public static final class Builder {
    private final List<Adapter> adapters = new ArrayList<>();
    private final StringBuilder config = new StringBuilder();
    private boolean standardManifest = true;
    private boolean allowRejections;
    private RuntimeOptions options = RuntimeOptions.DEFAULTS;
    private final List<Path> outputDirs = new ArrayList<>();

    private Builder() {}

    /** The adapters under test (only these: nothing is picked up from the class path). */
    public Builder adapters(Adapter... list) {
      adapters.addAll(List.of(list));
      return this;
    }

    /** Adds config documents (handlers, instances, rules, manifests), YAML separated by {@code ---}. */
    public Builder config(String yaml) {
      config.append("\n---\n").append(yaml);
      return this;
    }

    /** Adds the config documents of a file. */
    public Builder configFile(Path file) {
      try {
        return config(Files.readString(file, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Leaves out the standard attribute manifests of Istio's proxy and Kubernetes (on by default). */
    public Builder withoutStandardManifest() {
      standardManifest = false;
      return this;
    }

    /** Starts even if config objects are rejected (to test rejections); by default that fails. */
    public Builder allowRejections() {
      allowRejections = true;
      return this;
    }

    /**
     * How long the handler calls of one request may take, as {@code mixs server --handlerTimeout}
     * (1 s by default).
     */
    public Builder handlerTimeout(Duration timeout) {
      requireNonNull(timeout, "timeout");
      options = new RuntimeOptions(options.defaultNamespace(), options.identityAttribute(), timeout,
          options.failurePolicy(), options.adapterWorkerPoolSize(), options.configPolicy(), options.fileOutputPolicy());
      return this;
    }

    /**
     * A Check whose handler fails (throws, misses its deadline) is allowed, as with {@code mixs
     * server --handlerFailurePolicy=OPEN}; by default it is denied, as in Mixer.
     */
    public Builder failOpen() {
      options = new RuntimeOptions(options.defaultNamespace(), options.identityAttribute(), options.handlerTimeout(),
          RuntimeOptions.FailurePolicy.OPEN, options.adapterWorkerPoolSize(), options.configPolicy(),
          options.fileOutputPolicy());
      return this;
    }

    /**
     * Mixer's runtime options. Not API: its type is internal to Mixer; use {@link
     * #handlerTimeout(Duration)} and {@link #failOpen()}.
     */
    @Internal
    public Builder options(RuntimeOptions runtimeOptions) {
      options = requireNonNull(runtimeOptions, "runtimeOptions");
      return this;
    }

    /**
     * Lets handlers write files in {@code directory} (an existing one), as {@code mixs server
     * --allowedOutputDir DIR} does; none by default, as in Mixer. Repeatable.
     */
    public Builder allowOutputDir(Path directory) {
      outputDirs.add(requireNonNull(directory, "directory"));
      return this;
    }

    /**
     * Starts the Mixer with its first config snapshot live.
     *
     * @throws IllegalStateException listing the rejected objects, unless rejections are allowed
     */
    public TestMixer start() {
      ClassLoader loader = TestMixer.class.getClassLoader();
      Templates templates = Templates.load(loader);
      RuntimeOptions runtimeOptions = outputDirs.isEmpty() ? options
          : options.withFileOutputPolicy(FileOutputPolicy.allowing(outputDirs));
      PrometheusRegistry registry = new PrometheusRegistry();
      MixerRuntime runtime = new MixerRuntime(templates, Adapters.of(templates, adapters.toArray(new Adapter[0])),
          runtimeOptions, registry, Clock.systemUTC());
      MemoryStore store = new MemoryStore(options.defaultNamespace());
      store.setYaml((standardManifest ? standardManifest() : "") + config);
      try {
        runtime.start(store);
      } catch (IOException e) {
        runtime.close();
        throw new UncheckedIOException(e);
      }
      TestMixer mixer = new TestMixer(runtime, registry);
      List<String> rejected = mixer.rejected();
      if (!allowRejections && !rejected.isEmpty()) {
        mixer.close();
        throw new IllegalStateException("config rejected:\n  " + String.join("\n  ", rejected));
      }
      return mixer;
    }

    private static String standardManifest() {
      try (InputStream in = TestMixer.class.getResourceAsStream("attributes.yaml")) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

}

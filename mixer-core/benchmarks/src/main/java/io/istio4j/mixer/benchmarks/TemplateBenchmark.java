package io.istio4j.mixer.benchmarks;

import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.expr.ExpressionCompiler;
import io.istio4j.mixer.runtime.ExpressionFieldCompiler;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.metric.MetricParam;
import io.istio4j.template.metric.MetricTemplate;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Building upstream's stock {@code requestcount} metric instance (value plus 6 dimensions, with
 * {@code |} defaults, two map lookups and two absent attributes) from the attribute bag of a
 * realistic 30-attribute Envoy request, through the generated glue.
 *
 * <p>{@code decodeAndBuildMetric} minus {@code baselineDecodeOnly} (measured in the same run) is
 * the cost of building the instance on a fresh bag, first reads of every attribute included.
 * {@code buildMetricOnDecodedBag} reuses one bag, whose values are then already decoded: a lower
 * bound.
 *
 * <p>Run: {@code java -jar mixer-core/benchmarks/target/benchmarks.jar TemplateBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class TemplateBenchmark {

  static final Map<String, ValueType> MANIFEST = Map.of(
      "source.service", ValueType.STRING,
      "source.labels", ValueType.STRING_MAP,
      "destination.service", ValueType.STRING,
      "destination.labels", ValueType.STRING_MAP,
      "response.code", ValueType.INT64,
      "connection.mtls", ValueType.BOOL);

  /** The dimensions of upstream's stock requestcount metric (0.2/0.3 istio-config). */
  static final MetricParam REQUEST_COUNT = new MetricParam("1", Map.of(
      "source_service", "source.service | \"unknown\"",
      "source_version", "source.labels[\"version\"] | \"unknown\"",
      "destination_service", "destination.service | \"unknown\"",
      "destination_version", "destination.labels[\"version\"] | \"unknown\"",
      "response_code", "response.code | 200",
      "connection_mtls", "connection.mtls | false"),
      "\"UNSPECIFIED\"", Map.of());

  byte[] request;
  DecodedCheckRequest decoded;
  CompiledInstance<AttributeBag> requestCount;

  @Setup
  public void setUp() throws Exception {
    request = EnvoyRequests.check().toByteArray();
    decoded = RequestDecoder.decodeCheck(request);
    requestCount = new MetricTemplate().compile("requestcount.metric.istio-system", REQUEST_COUNT.toMessage(),
        new ExpressionFieldCompiler(ExpressionCompiler.of(MANIFEST)));
    MetricInstance check = (MetricInstance) requestCount.build(decoded.attributes());
    if (check.dimensions().size() != 6 || !check.dimensions().get("source_version").equals("v2")
        || !check.dimensions().get("response_code").equals(200L)) {
      throw new IllegalStateException("unexpected instance " + check);
    }
  }

  @Benchmark
  public Object decodeAndBuildMetric() {
    return requestCount.build(RequestDecoder.decodeCheck(request).attributes());
  }

  @Benchmark
  public DecodedCheckRequest baselineDecodeOnly() {
    return RequestDecoder.decodeCheck(request);
  }

  @Benchmark
  public Object buildMetricOnDecodedBag() {
    decoded.attributes().references().clear();
    return requestCount.build(decoded.attributes());
  }
}

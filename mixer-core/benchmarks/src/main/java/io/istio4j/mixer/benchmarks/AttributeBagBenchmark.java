package io.istio4j.mixer.benchmarks;

import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.AttributeName;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.MapKey;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Decoding a realistic 30-attribute Envoy Check request into a bag and doing 10 lookups (what rule
 * resolution and a couple of instances read). Baseline: protobuf-java parsing the same bytes into
 * generated message objects, with no lookups at all.
 *
 * <p>Run: {@code java -jar mixer-core/benchmarks/target/benchmarks.jar AttributeBagBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class AttributeBagBenchmark {

  static final AttributeName DESTINATION_SERVICE = AttributeName.of("destination.service");
  static final AttributeName CONTEXT_PROTOCOL = AttributeName.of("context.protocol");
  static final AttributeName REQUEST_METHOD = AttributeName.of("request.method");
  static final AttributeName REQUEST_PATH = AttributeName.of("request.path");
  static final AttributeName SOURCE_IP = AttributeName.of("source.ip");
  static final AttributeName REQUEST_TIME = AttributeName.of("request.time");
  static final AttributeName DESTINATION_PORT = AttributeName.of("destination.port");
  static final AttributeName REQUEST_HEADERS = AttributeName.of("request.headers");
  static final AttributeName SOURCE_LABELS = AttributeName.of("source.labels");
  static final MapKey X_USER = MapKey.of("x-user");
  static final MapKey AUTHORITY = MapKey.of(":authority");
  static final MapKey APP = MapKey.of("app");

  byte[] request;
  DecodedCheckRequest decoded;

  @Setup
  public void setUp() {
    request = EnvoyRequests.check().toByteArray();
    decoded = RequestDecoder.decodeCheck(request);
    if (EnvoyRequests.checkAttributes().size() != 30) {
      throw new IllegalStateException("expected 30 attributes");
    }
  }

  @Benchmark
  public void decodeAndTenLookups(Blackhole bh) {
    DecodedCheckRequest req = RequestDecoder.decodeCheck(request);
    lookups(req.attributes(), bh);
  }

  @Benchmark
  public ReferencedAttributes decodeTenLookupsAndEncodeReferences(Blackhole bh) {
    DecodedCheckRequest req = RequestDecoder.decodeCheck(request);
    lookups(req.attributes(), bh);
    return req.attributes().references().encode(req.globalWordCount());
  }

  @Benchmark
  public DecodedCheckRequest phaseDecodeOnly() {
    return RequestDecoder.decodeCheck(request);
  }

  @Benchmark
  public void phaseLookupsOnly(Blackhole bh) {
    decoded.attributes().references().clear();
    lookups(decoded.attributes(), bh);
  }

  @Benchmark
  public CompressedAttributes baselineProtobufParseOnly() throws Exception {
    return CheckRequest.parseFrom(request).getAttributes();
  }

  private static void lookups(AttributeBag bag, Blackhole bh) {
    bh.consume(bag.get(DESTINATION_SERVICE));
    bh.consume(bag.get(CONTEXT_PROTOCOL));
    bh.consume(bag.get(REQUEST_METHOD));
    bh.consume(bag.get(REQUEST_PATH));
    bh.consume(bag.get(SOURCE_IP));
    bh.consume(bag.get(REQUEST_TIME));
    bh.consume(bag.get(DESTINATION_PORT));
    bh.consume(bag.getMapValue(REQUEST_HEADERS, X_USER));
    bh.consume(bag.getMapValue(REQUEST_HEADERS, AUTHORITY));
    bh.consume(bag.getMapValue(SOURCE_LABELS, APP));
  }
}

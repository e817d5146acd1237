package io.istio4j.mixer.benchmarks;

import com.google.protobuf.Duration;
import com.google.rpc.Status;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.istio4j.mixer.attribute.GlobalDictionary;
import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.attribute.ReportBatchEncoderBefore;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import io.istio4j.mixer.v1.ReferencedAttributes.Condition;
import io.istio4j.mixer.v1.ReportRequest;
import io.istio4j.mixerclient.Attributes;
import io.istio4j.mixerclient.CheckResult;
import io.istio4j.mixerclient.MixerClient;
import java.io.IOException;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Java Mixer client (mixer-core/mixer-client): {@code checkHit} is one {@code MixerClient.check}
 * of the 30-attribute Bookinfo ratings request answered from the Check cache (the answer referenced
 * what the quickstart's rules read: the two services, {@code request.headers[x-user]} absent);
 * {@code reportEncode} is the report sender's per-record work, delta-encoding 1000 such records (each
 * with its own id, time and duration) into one batch; {@code reportEncodeBaseline} the same with the
 * encoder before its fast delta path.
 *
 * <p>Run: {@code java -jar mixer-core/benchmarks/target/benchmarks.jar MixerClientBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class MixerClientBenchmark {

  Server server;
  ManagedChannel channel;
  MixerClient client;
  Attributes request;
  Attributes[] records;

  @Setup
  public void setUp() throws IOException {
    String name = InProcessServerBuilder.generateName();
    ReferencedAttributes refs = ReferencedAttributes.newBuilder()
        .addWords("x-user")
        .addAttributeMatches(AttributeMatch.newBuilder().setName(GlobalDictionary.indexOf("destination.service"))
            .setCondition(Condition.EXACT))
        .addAttributeMatches(AttributeMatch.newBuilder().setName(GlobalDictionary.indexOf("source.service"))
            .setCondition(Condition.EXACT))
        .addAttributeMatches(AttributeMatch.newBuilder().setName(GlobalDictionary.indexOf("request.headers"))
            .setMapKey(-1).setCondition(Condition.ABSENCE))
        .build();
    CheckResponse answer = CheckResponse.newBuilder().setPrecondition(CheckResponse.PreconditionResult.newBuilder()
        .setStatus(Status.getDefaultInstance())
        .setValidDuration(Duration.newBuilder().setSeconds(3600))
        .setValidUseCount(-1)
        .setReferencedAttributes(refs)).build();
    server = InProcessServerBuilder.forName(name).directExecutor().addService(new MixerGrpc.MixerImplBase() {
      @Override
      public void check(CheckRequest r, StreamObserver<CheckResponse> out) {
        out.onNext(answer);
        out.onCompleted();
      }
    }).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client = MixerClient.builder().channel(channel).build();
    Attributes.Builder b = Attributes.builder();
    EnvoyRequests.checkAttributes().forEach(b::put);
    request = b.build();
    if (client.check(request).source() != CheckResult.Source.MIXER
        || client.check(request).source() != CheckResult.Source.CACHE) {
      throw new IllegalStateException("expected a miss, then a hit");
    }
    records = new Attributes[1000];
    for (int i = 0; i < records.length; i++) {
      records[i] = request.toBuilder()
          .put("request.id", "5b0ea0b4-" + i)
          .put("request.time", Instant.parse("2017-11-21T10:15:30Z").plusMillis(i))
          .put("response.duration", java.time.Duration.ofMillis(1 + i % 50))
          .put("response.code", 200L)
          .put("response.size", 1234L + i % 7)
          .build();
    }
  }

  @TearDown
  public void tearDown() {
    client.close();
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Benchmark
  public CheckResult checkHit() {
    return client.check(request);
  }

  @Benchmark
  @OperationsPerInvocation(1000)
  public ReportRequest reportEncode() {
    ReportBatchEncoder batch = new ReportBatchEncoder(GlobalDictionary.SIZE);
    for (Attributes r : records) {
      batch.add(r.asMap());
    }
    return batch.build();
  }

  /** {@link #reportEncode} with the encoder before issue 16's fast path, for a before/after in one run. */
  @Benchmark
  @OperationsPerInvocation(1000)
  public ReportRequest reportEncodeBaseline() {
    ReportBatchEncoderBefore batch = new ReportBatchEncoderBefore(GlobalDictionary.SIZE);
    for (Attributes r : records) {
      batch.add(r.asMap());
    }
    return batch.build();
  }
}

package io.istio4j.mixer.benchmarks;

import com.google.protobuf.ByteString;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.CompressedAttributeBag;
import io.istio4j.mixer.attribute.GlobalDictionary;
import io.istio4j.mixer.expr.Expression;
import io.istio4j.mixer.expr.ExpressionCompiler;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Five typical rule matches, evaluated by istio4j's compiled expressions against a bag decoded from
 * an Envoy-like Check request, and by CEL-Java (dev.cel:cel) on the same values.
 *
 * <p>Run: {@code java -jar mixer-core/benchmarks/target/benchmarks.jar ExpressionBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class ExpressionBenchmark {

  /** The Mixer expression and its CEL equivalent, separated by "|||". */
  @Param({
      "destination.service == \"reviews.default.svc.cluster.local\""
          + "|||destination.service == \"reviews.default.svc.cluster.local\"",
      "request.headers[\"x-user\"] == \"jason\" && source.labels[\"app\"] == \"productpage\""
          + "|||request.headers[\"x-user\"] == \"jason\" && source.labels[\"app\"] == \"productpage\"",
      "match(request.path, \"/api/*\") || request.method == \"POST\""
          + "|||request.path.startsWith(\"/api/\") || request.method == \"POST\"",
      "(request.size | 0) == 0"
          + "|||request.size == 0",
      "source.ip == ip(\"10.0.0.1\")"
          + "|||source.ip == b\"\\x0a\\x00\\x00\\x01\""})
  public String expressions;

  Expression mixer;
  CompressedAttributeBag bag;
  CelRuntime.Program cel;
  Map<String, Object> celVariables;

  @Setup
  public void setUp() throws Exception {
    String[] pair = expressions.split("\\|\\|\\|");
    Map<String, ValueType> manifest = Map.of(
        "destination.service", ValueType.STRING,
        "request.headers", ValueType.STRING_MAP,
        "source.labels", ValueType.STRING_MAP,
        "request.path", ValueType.STRING,
        "request.method", ValueType.STRING,
        "request.size", ValueType.INT64,
        "source.ip", ValueType.IP_ADDRESS);
    mixer = ExpressionCompiler.of(manifest).compile(pair[0]);

    Map<String, Object> attributes = new LinkedHashMap<>(EnvoyRequests.checkAttributes());
    Map<String, String> headers = new LinkedHashMap<>((Map<String, String>) attributes.get("request.headers"));
    headers.put("x-user", "jason");
    attributes.put("request.headers", headers);
    attributes.put("source.labels", Map.of("app", "productpage", "version", "v1"));
    attributes.put("destination.service", "reviews.default.svc.cluster.local");
    attributes.put("request.path", "/api/v1/products/0/reviews");
    attributes.put("source.ip", new byte[] {10, 0, 0, 1});
    bag = CompressedAttributeBag.decode(AttributesEncoder.encode(attributes, GlobalDictionary.SIZE).toByteArray());

    CelCompiler compiler = CelCompilerFactory.standardCelCompilerBuilder()
        .addVar("destination.service", SimpleType.STRING)
        .addVar("request.headers", MapType.create(SimpleType.STRING, SimpleType.STRING))
        .addVar("source.labels", MapType.create(SimpleType.STRING, SimpleType.STRING))
        .addVar("request.path", SimpleType.STRING)
        .addVar("request.method", SimpleType.STRING)
        .addVar("request.size", SimpleType.INT)
        .addVar("source.ip", SimpleType.BYTES)
        .build();
    CelAbstractSyntaxTree ast = compiler.compile(pair[1]).getAst();
    cel = CelRuntimeFactory.standardCelRuntimeBuilder().build().createProgram(ast);
    celVariables = new HashMap<>();
    attributes.forEach((k, v) -> celVariables.put(k, v instanceof byte[] b ? ByteString.copyFrom(b) : v));

    boolean a = mixer.evaluateBoolean(bag);
    Object b = cel.eval(celVariables);
    if (!(b instanceof Boolean) || a != (Boolean) b) {
      throw new IllegalStateException("results differ for " + expressions + ": " + a + " vs " + b);
    }
  }

  @Benchmark
  public boolean istio4j() {
    bag.references().clear(); // a request's bag records its own lookups; keep the log from growing
    return mixer.evaluateBoolean(bag);
  }

  @Benchmark
  public Object celJava() throws Exception {
    return cel.eval(celVariables);
  }
}

package com.acme.mixer.auditlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.adapter.template.Template;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.MutableAttributeBag;
import io.istio4j.mixer.expr.ExpressionCompiler;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.ExpressionFieldCompiler;
import io.istio4j.mixer.runtime.HandlerBuildException;
import io.istio4j.mixer.runtime.HandlerEnv;
import io.istio4j.mixer.runtime.HandlerFactory;
import io.istio4j.mixer.runtime.RegistryAdapterMetrics;
import io.istio4j.mixer.runtime.SpecParser;
import io.istio4j.mixer.runtime.Templates;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drives the adapter the way Mixer does: config parsed from specs, instances built from attributes. */
class AuditLogAdapterTest {

  private static final ClassLoader LOADER = AuditLogAdapterTest.class.getClassLoader();
  private static final Templates TEMPLATES = Templates.load(LOADER);
  private static final Adapters ADAPTERS = Adapters.load(LOADER, TEMPLATES);

  private final HandlerEnv env = new HandlerEnv("auditlog", "audit.auditlog.istio-system", Clock.systemUTC(),
      Executors.newSingleThreadScheduledExecutor(), Executors.newCachedThreadPool(),
      new RegistryAdapterMetrics(new PrometheusRegistry()));

  @TempDir
  Path dir;

  @AfterEach
  void close() {
    env.close();
  }

  private Handler handler(Map<String, ?> spec, Map<String, ?> types) throws Exception {
    AdapterInfo info = ADAPTERS.get("auditlog").orElseThrow();
    Message params = SpecParser.parse(spec, info.defaultConfig());
    return new HandlerFactory(TEMPLATES).build("audit.auditlog.istio-system", info, params,
        Map.of("auditentry", types), env);
  }

  @Test
  void mixerFindsTheTemplateAndTheAdapter() {
    assertThat(TEMPLATES.get("auditentry")).isPresent();
    assertThat(ADAPTERS.get("auditlog").orElseThrow().supportedTemplates()).containsExactly("auditentry");
  }

  @Test
  void appendsOneJsonLinePerInstance() throws Exception {
    Template auditentry = TEMPLATES.get("auditentry").orElseThrow();
    Map<String, Object> instanceSpec = Map.of(
        "principal", "request.auth.principal | \"anonymous\"",
        "action", "request.method",
        "resource", "request.path",
        "at", "request.time",
        "details", orderedDetails());
    ExpressionCompiler expressions = ExpressionCompiler.of(Map.of(
        "request.auth.principal", ValueType.STRING, "request.method", ValueType.STRING,
        "request.path", ValueType.STRING, "request.time", ValueType.TIMESTAMP,
        "response.code", ValueType.INT64, "request.useragent", ValueType.STRING));
    CompiledInstance<AttributeBag> audit = auditentry.compile("audit.auditentry.istio-system",
        SpecParser.parse(instanceSpec, auditentry.defaultParam()), new ExpressionFieldCompiler(expressions));

    Path log = dir.resolve("audit.log");
    try (Handler h = handler(Map.of("path", log.toString(), "maxDetailLength", 8),
        Map.of("audit.auditentry.istio-system", audit.type()))) {
      AttributeBag bag = new MutableAttributeBag()
          .set("request.method", "DELETE")
          .set("request.path", "/reviews/7")
          .set("request.time", Instant.parse("2017-11-21T10:15:30Z"))
          .set("response.code", 204L)
          .set("request.useragent", "curl/7.58.0 (x86_64)");
      auditentry.handleReport(h, List.of(audit.build(bag)));
    }
    assertThat(Files.readAllLines(log)).containsExactly(
        "{\"instance\":\"audit.auditentry.istio-system\",\"principal\":\"anonymous\",\"action\":\"DELETE\","
            + "\"resource\":\"/reviews/7\",\"at\":\"2017-11-21T10:15:30Z\","
            + "\"details\":{\"code\":\"204\",\"agent\":\"curl/7.5\"}}");
  }

  /** Config keeps the order of the YAML it came from; so does the log line. */
  private static Map<String, String> orderedDetails() {
    Map<String, String> details = new java.util.LinkedHashMap<>();
    details.put("code", "response.code");
    details.put("agent", "request.useragent");
    return details;
  }

  @Test
  void aMissingPathIsAConfigErrorNamingTheField() {
    assertThatThrownBy(() -> handler(Map.of("maxDetailLength", 8), Map.of()))
        .isInstanceOf(HandlerBuildException.class)
        .hasMessageContaining("invalid config: path: required");
  }

  @Test
  void anUnknownConfigFieldIsRejected() {
    assertThatThrownBy(() -> handler(Map.of("file", "/tmp/x"), Map.of()))
        .isInstanceOf(SpecParser.SpecException.class)
        .hasMessageContaining("file");
  }
}

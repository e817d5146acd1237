package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Instance;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.adapter.template.InstanceEvaluationException;
import io.istio4j.adapter.template.Template;
import io.istio4j.adapter.template.Variety;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.MutableAttributeBag;
import io.istio4j.template.apikey.ApiKeyHandler;
import io.istio4j.template.apikey.ApiKeyInstance;
import io.istio4j.template.apikey.ApiKeyParam;
import io.istio4j.template.checknothing.CheckNothingHandler;
import io.istio4j.template.checknothing.CheckNothingInstance;
import io.istio4j.template.checknothing.CheckNothingParam;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryInstance;
import io.istio4j.template.listentry.ListEntryParam;
import io.istio4j.template.logentry.LogEntryHandler;
import io.istio4j.template.logentry.LogEntryInstance;
import io.istio4j.template.logentry.LogEntryParam;
import io.istio4j.template.logentry.LogEntryType;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.metric.MetricParam;
import io.istio4j.template.metric.MetricType;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaInstance;
import io.istio4j.template.quota.QuotaParam;
import io.istio4j.template.reportnothing.ReportNothingHandler;
import io.istio4j.template.reportnothing.ReportNothingInstance;
import io.istio4j.template.reportnothing.ReportNothingParam;
import io.istio4j.template.tracespan.TraceSpanInstance;
import io.istio4j.template.tracespan.TraceSpanParam;
import io.istio4j.template.tracespan.TraceSpanType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GeneratedTemplatesTest {

  private static final Instant T0 = Instant.parse("2017-11-20T10:15:30.123456789Z");
  private static final Instant T1 = Instant.parse("2017-11-20T10:15:31Z");
  private static final Templates TEMPLATES = Templates.load(GeneratedTemplatesTest.class.getClassLoader());

  private static AttributeBag bag() {
    return new MutableAttributeBag()
        .set("source.service", "productpage.default.svc.cluster.local")
        .set("destination.service", "ratings.default.svc.cluster.local")
        .set("request.size", 1234L)
        .set("response.code", 200L)
        .set("request.time", T0)
        .set("response.time", T1)
        .set("response.duration", Duration.ofMillis(25))
        .set("request.headers", Map.of("x-user", "jason"))
        .set("request.api_key", "key-1");
  }

  private static Message viaJson(Message param, Template t) throws Exception {
    String json = JsonFormat.printer().print(param);
    return SpecParser.parse(json, t.defaultParam());
  }

  private static Template template(String name) {
    return TEMPLATES.get(name).orElseThrow();
  }

  @Test
  void serviceLoaderFindsEveryShippedTemplateWithItsVarietyAndInterfaces() {
    Map<String, Variety> varieties = new LinkedHashMap<>();
    for (Template t : TEMPLATES.all()) {
      varieties.put(t.name(), t.variety());
    }
    assertThat(varieties).containsExactlyInAnyOrderEntriesOf(Map.of(
        "apikey", Variety.CHECK, "checknothing", Variety.CHECK, "listentry", Variety.CHECK,
        "logentry", Variety.REPORT, "metric", Variety.REPORT, "quota", Variety.QUOTA,
        "reportnothing", Variety.REPORT, "tracespan", Variety.REPORT));
    assertThat(template("metric").handlerType()).isEqualTo(MetricHandler.class);
    assertThat(template("logentry").handlerType()).isEqualTo(LogEntryHandler.class);
    assertThat(template("quota").handlerType()).isEqualTo(QuotaHandler.class);
    assertThat(template("listentry").paramDescriptor().getFields())
        .extracting(f -> f.getName() + "=" + f.getNumber() + ":" + f.getType())
        .containsExactly("value=1:STRING");
    assertThat(template("tracespan").paramDescriptor().getFields())
        .extracting(f -> f.getName() + "=" + f.getNumber())
        .containsExactly("trace_id=1", "span_id=2", "parent_span_id=3", "span_name=4", "start_time=5",
            "end_time=6", "span_tags=7");
  }

  @Test
  void metricRoundTripsThroughConfigAndBuildsFromABag() throws Exception {
    MetricParam param = new MetricParam("request.size | 0",
        Map.of("source", "source.service | \"unknown\"", "code", "response.code | 200",
            "user", "request.headers[\"x-user\"]"),
        "\"UNSPECIFIED\"", Map.of());
    Template t = template("metric");
    Message parsed = viaJson(param.toMessage(), t);
    assertThat(MetricParam.fromMessage(parsed)).isEqualTo(param);

    CompiledInstance<AttributeBag> compiled = t.compile("requestsize.metric.istio-system", parsed, Manifests.FIELDS);
    assertThat(compiled.type()).isEqualTo(new MetricType(ValueType.INT64,
        Map.of("source", ValueType.STRING, "code", ValueType.INT64, "user", ValueType.STRING), Map.of()));

    MetricInstance built = (MetricInstance) compiled.build(bag());
    assertThat(built).isEqualTo(new MetricInstance("requestsize.metric.istio-system", 1234L,
        Map.of("source", "productpage.default.svc.cluster.local", "code", 200L, "user", "jason"),
        "UNSPECIFIED", Map.of()));
    assertThat(built.dimensions()).containsKeys("source", "code", "user").doesNotContainKey("other");

    List<MetricInstance> received = new ArrayList<>();
    MetricHandler handler = new MetricHandler() {
      @Override
      public void handleMetric(List<MetricInstance> instances) {
        received.addAll(instances);
      }

      @Override
      public void close() {}
    };
    t.handleReport(handler, List.of(built, built));
    assertThat(received).containsExactly(built, built);
  }

  @Test
  void logEntryBuildsTimestampsAndVariables() throws Exception {
    LogEntryParam param = new LogEntryParam(
        Map.of("latency", "response.duration", "size", "request.size | 0"),
        "request.time", "\"Info\"", "\"global\"", Map.of("service", "destination.service"));
    Template t = template("logentry");
    CompiledInstance<AttributeBag> compiled =
        t.compile("accesslog.logentry.istio-system", viaJson(param.toMessage(), t), Manifests.FIELDS);
    assertThat(compiled.type()).isEqualTo(new LogEntryType(
        Map.of("latency", ValueType.DURATION, "size", ValueType.INT64), Map.of("service", ValueType.STRING)));
    assertThat(compiled.build(bag())).isEqualTo(new LogEntryInstance("accesslog.logentry.istio-system",
        Map.of("latency", Duration.ofMillis(25), "size", 1234L), T0, "Info", "global",
        Map.of("service", "ratings.default.svc.cluster.local")));
  }

  @Test
  void traceSpanBuildsEveryFieldKind() throws Exception {
    TraceSpanParam param = new TraceSpanParam("\"t1\"", "\"s1\"", "\"\" | \"root\"", "destination.service",
        "request.time", "response.time", Map.of("code", "response.code"));
    Template t = template("tracespan");
    CompiledInstance<AttributeBag> compiled =
        t.compile("span.tracespan.default", viaJson(param.toMessage(), t), Manifests.FIELDS);
    assertThat(compiled.type()).isEqualTo(new TraceSpanType(Map.of("code", ValueType.INT64)));
    assertThat(compiled.build(bag())).isEqualTo(new TraceSpanInstance("span.tracespan.default", "t1", "s1",
        "", "ratings.default.svc.cluster.local", T0, T1, Map.of("code", 200L)));
  }

  @Test
  void checkTemplatesDispatchToTheirHandlers() throws Exception {
    CheckResult denied = CheckResult.of(Status.of(Status.Code.PERMISSION_DENIED, "no"), Duration.ofSeconds(5), 7);

    Template listentry = template("listentry");
    Message listParam = viaJson(new ListEntryParam("source.service").toMessage(), listentry);
    Instance entry = listentry.compile("src.listentry.default", listParam, Manifests.FIELDS).build(bag());
    assertThat(entry).isEqualTo(new ListEntryInstance("src.listentry.default", "productpage.default.svc.cluster.local"));
    List<String> seen = new ArrayList<>();
    ListEntryHandler lists = new ListEntryHandler() {
      @Override
      public CheckResult handleListEntry(ListEntryInstance instance) {
        seen.add(instance.value());
        return denied;
      }

      @Override
      public void close() {}
    };
    assertThat(listentry.handleCheck(lists, entry)).isEqualTo(denied);
    assertThat(seen).containsExactly("productpage.default.svc.cluster.local");

    Template checknothing = template("checknothing");
    Instance nothing = checknothing.compile("deny.checknothing.default",
        viaJson(new CheckNothingParam().toMessage(), checknothing), Manifests.FIELDS).build(bag());
    assertThat(nothing).isEqualTo(new CheckNothingInstance("deny.checknothing.default"));
    CheckNothingHandler deny = new CheckNothingHandler() {
      @Override
      public CheckResult handleCheckNothing(CheckNothingInstance instance) {
        return denied;
      }

      @Override
      public void close() {}
    };
    assertThat(checknothing.handleCheck(deny, nothing)).isEqualTo(denied);

    Template apikey = template("apikey");
    ApiKeyParam keyParam = new ApiKeyParam("destination.service", "\"v1\"", "\"get\"", "request.api_key",
        "request.time");
    Instance key = apikey.compile("key.apikey.default", viaJson(keyParam.toMessage(), apikey), Manifests.FIELDS)
        .build(bag());
    assertThat(key).isEqualTo(new ApiKeyInstance("key.apikey.default", "ratings.default.svc.cluster.local", "v1",
        "get", "key-1", T0));
    ApiKeyHandler keys = new ApiKeyHandler() {
      @Override
      public CheckResult handleApiKey(ApiKeyInstance instance) {
        return instance.apiKey().equals("key-1") ? CheckResult.of(Status.OK, Duration.ofSeconds(1), 1) : denied;
      }

      @Override
      public void close() {}
    };
    assertThat(apikey.handleCheck(keys, key).status()).isEqualTo(Status.OK);
  }

  @Test
  void quotaAndReportNothingDispatch() throws Exception {
    Template quota = template("quota");
    QuotaParam param = new QuotaParam(Map.of("source", "source.service", "user", "request.headers[\"x-user\"] | \"\""));
    Instance instance = quota.compile("requestcount.quota.istio-system", viaJson(param.toMessage(), quota),
        Manifests.FIELDS).build(bag());
    assertThat(instance).isEqualTo(new QuotaInstance("requestcount.quota.istio-system",
        Map.of("source", "productpage.default.svc.cluster.local", "user", "jason")));
    QuotaHandler grantHalf = new QuotaHandler() {
      @Override
      public QuotaResult handleQuota(QuotaInstance q, QuotaArgs args) {
        return QuotaResult.granted(args.amount() / 2, Duration.ofSeconds(1));
      }

      @Override
      public void close() {}
    };
    assertThat(quota.handleQuota(grantHalf, instance, new QuotaArgs("id", 10, true)).amount()).isEqualTo(5);

    Template nothing = template("reportnothing");
    Instance report = nothing.compile("r.reportnothing.default",
        viaJson(new ReportNothingParam().toMessage(), nothing), Manifests.FIELDS).build(bag());
    List<ReportNothingInstance> got = new ArrayList<>();
    nothing.handleReport(new ReportNothingHandler() {
      @Override
      public void handleReportNothing(List<ReportNothingInstance> instances) {
        got.addAll(instances);
      }

      @Override
      public void close() {}
    }, List.of(report));
    assertThat(got).containsExactly(new ReportNothingInstance("r.reportnothing.default"));
  }

  @Test
  void anEvaluationFailureNamesFieldAndInstanceAsUpstream() throws Exception {
    Template metric = template("metric");
    MetricParam param = new MetricParam("request.size", Map.of("user", "source.user"), "\"x\"", Map.of());
    CompiledInstance<AttributeBag> compiled = metric.compile("m.metric.ns", param.toMessage(), Manifests.FIELDS);
    AttributeBag noSize = new MutableAttributeBag().set("source.user", "u");
    assertThatThrownBy(() -> compiled.build(noSize))
        .isInstanceOf(InstanceEvaluationException.class)
        .hasMessage("failed to evaluate field 'value' for instance 'm.metric.ns': lookup failed: 'request.size'");
    AttributeBag noUser = new MutableAttributeBag().set("request.size", 1L);
    assertThatThrownBy(() -> compiled.build(noUser))
        .hasMessage("failed to evaluate field 'dimensions[user]' for instance 'm.metric.ns': "
            + "lookup failed: 'source.user'");
  }

  @Test
  void dispatchingToTheWrongVarietyIsRefused() {
    assertThatThrownBy(() -> template("metric").handleCheck(null, null))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessage("metric is a REPORT template, not CHECK");
  }
}

package io.istio4j.mixer.client;

import static io.istio4j.mixer.client.MixsProcessIT.ROOT;
import static io.istio4j.mixer.client.MixsProcessIT.awaitReady;
import static io.istio4j.mixer.client.MixsProcessIT.freePort;
import static io.istio4j.mixer.client.MixsProcessIT.http;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.istio4j.mixer.transport.RawMarshaller;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/monitoring, the Grafana dashboard and the Prometheus alert rules, checked with the real
 * tools: {@code promtool check rules} and {@code promtool test rules}, then every dashboard query
 * and every alert expression run by a real Prometheus scraping a live {@code bin/mixs} (the
 * quickstart config, Redis for quota unreachable, a rule naming a missing handler, tracing to a
 * Zipkin that is not there) after Checks, Reports and undecodable Checks. A query that does not
 * parse, returns nothing, or names a metric Mixer does not export fails the test.
 */
class MonitoringIT {

  static final Path MONITORING = ROOT.resolve("deploy/monitoring");
  static final Path DASHBOARD = MONITORING.resolve("mixer-dashboard.json");
  static final Path ALERTS = MONITORING.resolve("mixer-alerts.yaml");
  static final ObjectMapper JSON = new ObjectMapper();

  /** Grafana's own variables, as a dashboard over the last hour at 1 s scrapes would get them. */
  static final Map<String, String> GRAFANA_BUILTINS = Map.of(
      "$__rate_interval", "1m", "$__interval", "15s", "$__range", "1h");

  /** Words of PromQL that are no metric names. */
  static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without", "on",
      "ignoring", "group_left", "group_right", "inf", "nan");

  @Test
  void promtoolAcceptsTheRulesAndTheirUnitTestsPass() throws Exception {
    String promtool = PrometheusProcess.findOnPath("promtool");
    assertThat(promtool).as("promtool is not on the PATH; " + PrometheusProcess.INSTALL_HINT).isNotNull();

    MixsProcessIT.Result check = run(promtool, "check", "rules", ALERTS.toString());
    assertThat(check.exit()).as(check.out()).isZero();
    assertThat(check.out()).contains("SUCCESS: " + alerts().size() + " rules found");

    MixsProcessIT.Result test = run(promtool, "test", "rules", "mixer-alerts-test.yaml");
    assertThat(test.exit()).as(test.out()).isZero();
    assertThat(test.out()).contains("SUCCESS");
  }

  @Test
  void promtoolRefusesABrokenRule() throws Exception {
    String promtool = PrometheusProcess.findOnPath("promtool");
    assertThat(promtool).as("promtool is not on the PATH; " + PrometheusProcess.INSTALL_HINT).isNotNull();
    Path bad = Files.createTempFile("bad-alerts", ".yaml");
    try {
      Files.writeString(bad, Files.readString(ALERTS).replace("absent(up{job=\"mixer\"} == 1)",
          "absent(up{job=\"mixer\"} == 1"));
      MixsProcessIT.Result check = run(promtool, "check", "rules", bad.toString());
      assertThat(check.exit()).as(check.out()).isNotZero();
      assertThat(check.out()).contains("unclosed left parenthesis");
    } finally {
      Files.delete(bad);
    }
  }

  @Test
  void theDashboardIsWellFormedAndUsesOnlyItsVariables() throws IOException {
    JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
    assertThat(dashboard.path("uid").asText()).isEqualTo("istio4j-mixer");
    Set<Integer> ids = new TreeSet<>();
    for (JsonNode panel : dashboard.path("panels")) {
      assertThat(ids.add(panel.path("id").asInt())).as("panel id %s is unique", panel.path("id")).isTrue();
      if (!panel.path("type").asText().equals("row")) {
        assertThat(panel.path("targets")).as("targets of panel '%s'", panel.path("title").asText()).isNotEmpty();
        assertThat(panel.at("/datasource/uid").asText()).as(panel.path("title").asText()).isEqualTo("${datasource}");
      }
    }
    Map<String, String> queries = dashboardQueries(dashboard);
    assertThat(queries).hasSizeGreaterThan(20);
    queries.forEach((where, expr) -> assertThat(expr).as(where).doesNotContain("$"));
  }

  @Test
  void everyDashboardQueryAndAlertRunsAgainstALiveMixer() throws Exception {
    assertThat(PrometheusProcess.findOnPath("prometheus"))
        .as("the prometheus binary is not on the PATH; " + PrometheusProcess.INSTALL_HINT).isNotNull();
    Path work = Files.createTempDirectory("monitoring-it");
    Path config = Files.createDirectories(work.resolve("config"));
    int adapterPort = freePort();
    int redisPort = closedPort();
    writeConfig(config, adapterPort, redisPort);

    int mixerPort = freePort();
    int monitoringPort = freePort();
    Path mixsLog = work.resolve("mixs.log");
    Process mixs = new ProcessBuilder(ROOT.resolve("bin/mixs").toString(), "server",
        "--configStoreURL=fs://" + config, "--port", String.valueOf(mixerPort),
        "--monitoringPort", String.valueOf(monitoringPort),
        // Nothing listens there: spans are dropped, so the trace panels have data.
        "--zipkinURL", "http://127.0.0.1:" + closedPort() + "/api/v2/spans")
        .redirectErrorStream(true).redirectOutput(mixsLog.toFile()).start();
    ManagedChannel channel = null;
    try (PrometheusProcess prometheus = PrometheusProcess.start(work, Map.of(
        "mixer", "localhost:" + monitoringPort, "istio-mesh", "localhost:" + adapterPort))) {
      awaitReady(monitoringPort, mixs, mixsLog);
      // The config is as meant: the one broken rule rejected, nothing else.
      assertThat(http(monitoringPort, "/metrics").body()).as(http(monitoringPort, "/debug/config").body())
          .contains("mixer_config_objects{state=\"rejected\"} 1.0");
      channel = NettyChannelBuilder.forAddress("localhost", mixerPort).usePlaintext().build();
      prometheus.await("sum(up)", r -> r.size() == 1 && r.get(0).at("/value/1").asText().equals("2"),
          "both targets up");

      // Two rounds of traffic with a scrape between them, so that every series has a rate.
      traffic(channel);
      awaitScraped(prometheus, 1);
      traffic(channel);
      awaitScraped(prometheus, 2);

      Set<String> exported = new TreeSet<>();
      prometheus.get("/api/v1/label/__name__/values").path("data").forEach(n -> exported.add(n.asText()));

      Map<String, String> queries = dashboardQueries(JSON.readTree(DASHBOARD.toFile()));
      List<String> failures = new ArrayList<>();
      for (Map.Entry<String, String> q : queries.entrySet()) {
        String problem = problem(prometheus, q.getValue(), exported, true);
        if (problem != null) {
          failures.add(q.getKey() + ": " + problem + "\n    " + q.getValue());
        }
      }
      Set<String> firing = new TreeSet<>();
      for (Map.Entry<String, String> alert : alerts().entrySet()) {
        String problem = problem(prometheus, alert.getValue(), exported, false);
        if (problem != null) {
          failures.add("alert " + alert.getKey() + ": " + problem + "\n    " + alert.getValue());
        } else if (!prometheus.query(alert.getValue()).at("/data/result").isEmpty()) {
          firing.add(alert.getKey());
        }
      }
      assertThat(failures).as("queries that fail against a live mixs (metrics exported: %s)\nmixs /metrics:\n%s",
          exported, http(monitoringPort, "/metrics").body()).isEmpty();

      // What this Mixer suffers from, and nothing else that is deterministic: the latency alerts
      // may fire on a loaded machine, so they are left out of the comparison.
      firing.removeAll(Set.of("MixerCheckLatencyHigh", "MixerReportLatencyHigh", "IstioServiceLatencyHigh",
          "MixerTraceSpansDropped", "MixerHeapNearlyFull"));
      assertThat(firing).as("alert expressions that hold (their 'for' aside)").containsExactlyInAnyOrder(
          "MixerConfigRejected", "MixerQuotaBackendDown", "MixerCheckErrorRate", "IstioServiceErrorRate");
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
      mixs.destroy();
      if (!mixs.waitFor(20, TimeUnit.SECONDS)) {
        mixs.destroyForcibly();
        mixs.waitFor(10, TimeUnit.SECONDS);
      }
      PrometheusEndToEndIT.deleteRecursively(work);
    }
  }

  /** Why {@code expr} is no good, or null: it must parse, name only exported metrics and (if asked) return data. */
  static String problem(PrometheusProcess prometheus, String expr, Set<String> exported, boolean needsData)
      throws InterruptedException {
    JsonNode answer;
    try {
      answer = prometheus.query(expr);
    } catch (IOException e) {
      return "Prometheus refused it: " + e.getMessage();
    }
    Set<String> unknown = new TreeSet<>(metricNames(expr));
    unknown.removeAll(exported);
    if (!unknown.isEmpty()) {
      return "names metrics that nothing exports: " + unknown;
    }
    if (needsData && answer.at("/data/result").isEmpty()) {
      return "returned no data";
    }
    return null;
  }

  /**
   * The metric names {@code expr} selects: what is left once strings, label matchers, ranges and
   * grouping clauses are taken out, without function names, keywords and numbers.
   */
  static Set<String> metricNames(String expr) {
    String s = expr.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")
        .replaceAll("\\{[^}]*}", " ")
        .replaceAll("\\[[^]]*]", " ")
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("(?<![\\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\\b(\\s*\\()?").matcher(s);
    while (m.find()) {
      if (m.group(2) == null && !KEYWORDS.contains(m.group(1).toLowerCase())) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  @Test
  void metricNamesAreFoundInExpressions() {
    assertThat(metricNames("histogram_quantile(0.99, sum by (grpc_method, le) (rate(grpc_server_handling_seconds_bucket"
        + "{job=~\"mixer\", grpc_method=\"Check\"}[1m]))) > 0.1 and on (job) up == 1"))
        .containsExactly("grpc_server_handling_seconds_bucket", "up");
    assertThat(metricNames("absent(up{job=\"a{b}\"} == 1) or vector(0)")).containsExactly("up");
  }

  @Test
  void aQueryNamingAMetricMixsDoesNotExportIsCaught() {
    assertThat(metricNames("sum(rate(mixer_runtime_dispatch_total[1m])) / sum(rate(grpc_server_handled_total[1m]))"))
        .contains("mixer_runtime_dispatch_total");
  }

  /** Every {@code targets[].expr} of the dashboard, Grafana's variables replaced, by panel title and refId. */
  static Map<String, String> dashboardQueries(JsonNode dashboard) {
    Map<String, String> variables = new LinkedHashMap<>();
    for (JsonNode v : dashboard.at("/templating/list")) {
      if (v.path("type").asText().equals("query")) {
        String current = v.at("/current/value").asText();
        variables.put("$" + v.path("name").asText(),
            current.equals("All") || current.equals("$__all") ? v.path("allValue").asText() : current);
      }
    }
    Map<String, String> queries = new TreeMap<>();
    List<JsonNode> panels = new ArrayList<>();
    dashboard.path("panels").forEach(panels::add);
    for (int i = 0; i < panels.size(); i++) {
      JsonNode panel = panels.get(i);
      panel.path("panels").forEach(panels::add); // panels of collapsed rows
      for (JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asText();
        // Longest names first: $__rate_interval before $__range, $meshjob before $job... is not a prefix issue,
        // but ${name} and $name are both Grafana syntax.
        for (Map<String, String> vars : List.of(GRAFANA_BUILTINS, variables)) {
          for (Map.Entry<String, String> v : vars.entrySet()) {
            String name = v.getKey().substring(1);
            expr = expr.replace("${" + name + "}", v.getValue())
                .replaceAll("\\$" + Pattern.quote(name) + "\\b", Matcher.quoteReplacement(v.getValue()));
          }
        }
        queries.put(panel.path("title").asText() + " / " + target.path("refId").asText(), expr);
      }
    }
    return queries;
  }

  /** Alert name to expression, from mixer-alerts.yaml. */
  static Map<String, String> alerts() throws IOException {
    Map<String, String> alerts = new TreeMap<>();
    for (JsonNode group : new YAMLMapper().readTree(ALERTS.toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        assertThat(alerts.put(rule.path("alert").asText(), rule.path("expr").asText()))
            .as("alert %s defined once", rule.path("alert").asText()).isNull();
      }
    }
    return alerts;
  }

  /**
   * One round: good Checks (each asks for quota, which Redis cannot grant), undecodable Checks
   * (INVALID_ARGUMENT), Reports answered 200 and 503.
   */
  static void traffic(ManagedChannel channel) {
    MixerGrpc.MixerBlockingStub mixer = MixerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    Map<String, Object> request = new LinkedHashMap<>();
    request.put("destination.service", "ratings.default.svc.cluster.local");
    request.put("source.service", "reviews.default.svc.cluster.local");
    request.put("destination.labels", Map.of("version", "v1"));
    for (int i = 0; i < 4; i++) {
      CheckResponse r = mixer.check(CheckCommand.build(request, Map.of("RequestCount", 1L)));
      assertThat(r.getPrecondition().getStatus().getCode()).isZero();
    }
    byte[] garbage = {10, 100, 1, 2, 3};
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel,
          MixerGrpc.getCheckMethod().toBuilder(RawMarshaller.INSTANCE,
              ProtoUtils.marshaller(CheckResponse.getDefaultInstance())).build(),
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), garbage))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }
    Map<String, Object> ok = new LinkedHashMap<>(request);
    ok.put("response.code", 200L);
    mixer.report(ReportCommand.batch(ok, 6));
    Map<String, Object> failed = new LinkedHashMap<>(request);
    failed.put("response.code", 503L);
    mixer.report(ReportCommand.batch(failed, 2));
    // No request.time: the access log's instance (timestamp: request.time, no default) is not built.
    mixer.report(ReportCommand.build(ok));
  }

  /** Waits until Prometheus has scraped round {@code n} of {@link #traffic} from both ports. */
  static void awaitScraped(PrometheusProcess prometheus, int n) throws Exception {
    prometheus.awaitSample("sum(istio_request_count{job=\"istio-mesh\", response_code=\"503\"})",
        String.valueOf(2 * n));
    prometheus.awaitSample("sum(grpc_server_handled_total{job=\"mixer\", grpc_method=\"Check\", "
        + "grpc_code=\"INVALID_ARGUMENT\"})", String.valueOf(2 * n));
    // The round's last Report (one access log instance not built) may be counted after a scrape that
    // already has the Checks: wait for it too, or round 1's scrape can lack the series and its rate
    // has a single sample.
    prometheus.awaitSample("sum(mixer_runtime_instance_errors_total{job=\"mixer\"})", String.valueOf(n));
  }

  /**
   * The quickstart config, with: the prometheus adapter on {@code adapterPort}; redisquota at a port
   * nothing listens on instead of memquota; a rule naming a handler that does not exist.
   */
  static void writeConfig(Path config, int adapterPort, int redisPort) throws IOException {
    Path quickstart = ROOT.resolve("examples/quickstart");
    Files.copy(quickstart.resolve("attributes.yaml"), config.resolve("attributes.yaml"));
    String telemetry = Files.readString(quickstart.resolve("telemetry.yaml"));
    String withPort = telemetry.replaceFirst("(kind: prometheus\\n(?:.*\\n)*?spec:\\n)", "$1  port: " + adapterPort + "\n");
    assertThat(withPort).as("the prometheus handler of the quickstart").isNotEqualTo(telemetry);
    Files.writeString(config.resolve("telemetry.yaml"), withPort);
    List<String> policy = new ArrayList<>();
    for (String doc : Files.readString(quickstart.resolve("policy.yaml")).split("(?m)^---\\n")) {
      policy.add(!doc.contains("kind: memquota") ? doc : """
          apiVersion: "config.istio.io/v1alpha2"
          kind: redisquota
          metadata:
            name: handler
            namespace: istio-system
          spec:
            redisServerUrl: "127.0.0.1:%d"
            failurePolicy: GRANT
            quotas:
            - name: requestcount.quota.istio-system
              maxAmount: 100
              validDuration: 1s
          """.formatted(redisPort));
    }
    String redis = String.join("---\n", policy).replace("handler: handler.memquota", "handler: handler.redisquota");
    assertThat(redis).as("the memquota handler of the quickstart").contains("kind: redisquota")
        .doesNotContain("memquota");
    Files.writeString(config.resolve("policy.yaml"), redis);
    Files.writeString(config.resolve("broken.yaml"), """
        apiVersion: "config.istio.io/v1alpha2"
        kind: rule
        metadata:
          name: broken
          namespace: istio-system
        spec:
          actions:
          - handler: missing.denier
            instances: [ denyrequest.checknothing ]
        """);
  }

  /** A port that was free a moment ago: nothing listens there. */
  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static MixsProcessIT.Result run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(MONITORING.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new MixsProcessIT.Result(p.waitFor(), out);
  }
}

package io.istio4j.adapters.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StdioScenarioTest {

  /** Two handlers, JSON and text, each writing a file, for an access log entry and two metrics. */
  private static final String CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: stdio
      metadata: {name: json, namespace: istio-system}
      spec:
        outputAsJson: true
        logStream: FILE
        outputPath: ${dir}/json.log
        metricLevel: WARNING
        severityLevels: {Error: ERROR, Warning: WARNING}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: stdio
      metadata: {name: text, namespace: istio-system}
      spec:
        logStream: FILE
        outputPath: ${dir}/text.log
        severityLevels: {Error: ERROR}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: logentry
      metadata: {name: accesslog, namespace: istio-system}
      spec:
        severity: request.headers["x-severity"] | "Default"
        timestamp: request.time
        variables:
          sourceIp: source.ip | ip("0.0.0.0")
          url: request.path | ""
          responseCode: response.code | 0
          latency: response.duration | "0ms"
          startTime: request.time
          headers: request.headers
          ok: response.code == 200
        monitored_resource_type: '"UNSPECIFIED"'
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: metric
      metadata: {name: requestcount, namespace: istio-system}
      spec:
        value: "1"
        dimensions:
          destination: destination.service | "unknown"
          responseCode: response.code | 200
        monitored_resource_type: '"UNSPECIFIED"'
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: metric
      metadata: {name: requestduration, namespace: istio-system}
      spec:
        value: response.duration | "0ms"
        dimensions:
          destination: destination.service | "unknown"
        monitored_resource_type: '"UNSPECIFIED"'
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: stdio, namespace: istio-system}
      spec:
        match: "true"
        actions:
        - handler: json.stdio
          instances: [accesslog.logentry, requestcount.metric, requestduration.metric]
        - handler: text.stdio
          instances: [accesslog.logentry, requestcount.metric, requestduration.metric]
      """;

  /** zap's time layout; a metric line's first one is its time. */
  private static final Pattern TIME = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

  @TempDir
  Path dir;

  private static Map<String, Object> request(String path, long code, long millis, Map<String, String> headers)
      throws IOException {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("destination.service", "reviews.default.svc.cluster.local");
    r.put("source.ip", InetAddress.getByName("10.0.0.1"));
    r.put("request.path", path);
    r.put("request.time", Instant.parse("2017-09-01T12:00:00.123456Z").plusSeconds(code / 100));
    r.put("request.headers", headers);
    r.put("response.code", code);
    r.put("response.duration", Duration.ofMillis(millis));
    return r;
  }

  @Test
  void reportsBecomeOneLinePerInstanceInEachHandlersFile() throws Exception {
    Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Scenario.builder()
        .adapters(new StdioAdapter())
        .config(CONFIG.replace("${dir}", dir.toString()))
        .mixer(m -> m.allowOutputDir(dir))
        .report(request("/reviews/1", 200, 25, Map.of("x-user", "jason")),
            request("/reviews/2 \"two\"", 500, 1500, Map.of("x-severity", "Error", "x-user", "jason")))
        .call(mixer -> {
          mixer.close(); // closing the handlers writes out what they buffered
          return "closed";
        })
        .state(() -> {
          Instant after = Instant.now();
          return Map.of("json.log", lines("json.log", before, after), "text.log", lines("text.log", before, after));
        })
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/stdio.json"));
  }

  /**
   * The file's lines. A metric line's time is the time it was reported: it is checked to lie
   * between {@code before} and {@code after} and then replaced by {@code <now>}, so the golden
   * file stays stable.
   */
  private List<String> lines(String file, Instant before, Instant after) {
    try {
      return Files.readAllLines(dir.resolve(file)).stream().map(line -> {
        if (!line.contains(".metric.istio-system")) {
          return line;
        }
        Matcher m = TIME.matcher(line);
        assertThat(m.find()).as("time in %s", line).isTrue();
        assertThat(Instant.parse(m.group())).isBetween(before, after);
        return line.substring(0, m.start()) + "<now>" + line.substring(m.end());
      }).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void upstreamsStockAccessLogConfigWritesJsonToStdout() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try (TestMixer mixer = TestMixer.builder()
        .adapters(new StdioAdapter())
        .configFile(Path.of("src/test/resources/upstream/accesslog.yaml"))
        .start()) {
      Map<String, Object> r = request("/reviews/1", 200, 25, Map.of());
      r.put("request.method", "GET");
      assertThat(mixer.report(r).error()).isNull();
    } finally {
      System.setOut(stdout);
    }
    assertThat(captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("{")))
        .containsExactly("{\"level\":\"info\",\"time\":\"2017-09-01T12:00:02.123Z\","
            + "\"instance\":\"accesslog.logentry.istio-system\",\"destinationIp\":\"0.0.0.0\",\"latency\":\"25ms\","
            + "\"method\":\"GET\",\"protocol\":\"http\",\"requestSize\":0,\"responseCode\":200,\"responseSize\":0,"
            + "\"sourceIp\":\"10.0.0.1\",\"sourceUser\":\"\",\"url\":\"/reviews/1\"}");
  }

  @Test
  void theDocumentedExampleLoadsAndWritesItsFile() throws Exception {
    String doc = Files.readString(Path.of("../../docs/adapters/stdio.md"));
    int start = doc.indexOf("```yaml\n", doc.indexOf("## Example")) + "```yaml\n".length();
    String yaml = doc.substring(start, doc.indexOf("```", start))
        .replace("/var/log/mixer/access.log", dir.resolve("access.log").toString());
    try (TestMixer mixer = TestMixer.builder().adapters(new StdioAdapter()).config(yaml).allowOutputDir(dir).start()) {
      Map<String, Object> r = request("/reviews/1", 500, 25, Map.of("x-severity", "Error"));
      assertThat(mixer.report(r).error()).isNull();
    }
    List<String> lines = Files.readAllLines(dir.resolve("access.log"));
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("{\"level\":\"error\",\"time\":\"2017-09-01T12:00:05.123Z\","
        + "\"instance\":\"accesslog.logentry.istio-system\",");
    assertThat(lines.get(1)).startsWith("{\"level\":\"info\",").endsWith(
        "\"instance\":\"requestcount.metric.istio-system\",\"value\":1,"
            + "\"destination\":\"reviews.default.svc.cluster.local\",\"responseCode\":500}");
  }
}

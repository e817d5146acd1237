package io.istio4j.mixer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.server.MixerServer;
import io.istio4j.mixer.server.ServerOptions;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import io.istio4j.mixer.v1.ReferencedAttributes.Condition;
import io.istio4j.mixer.v1.ReportRequest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

class MixcTest {

  static MixerServer server;

  @BeforeAll
  static void start() throws Exception {
    server = MixerServer.start(ServerOptions.ephemeral());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  record Run(int exit, String out, String err) {}

  static Run mixc(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Mixc.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  String mixer() {
    return "localhost:" + server.port();
  }

  @Test
  void checkPrintsStatusDurationsAndQuotas() {
    Run r = mixc("check", "-m", mixer(), "-s", "destination.service=a.ns.svc.cluster.local",
        "-i", "request.size=12", "--stringmap_attributes", "request.headers=x-user:jason;:path:/a",
        "-q", "RequestCount=3", "-r", "2");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("Check RPC completed successfully. Check status was OK")
        .contains("Valid use count: 200, valid duration: 10s")
        .contains("Quota 'RequestCount': granted 3, valid duration: 10s");
    assertThat(r.out().split("Check RPC completed", -1)).hasSize(3);
  }

  @Test
  void reportSendsEveryAttributeType() {
    Run r = mixc("report", "-m", mixer(), "-s", "destination.service=a", "-i", "response.code=200",
        "-d", "test.ratio=0.5", "-b", "test.flag=true", "-t", "request.time=2017-11-21T10:15:30Z",
        "--duration_attributes", "response.duration=19ms", "--bytes_attributes", "source.ip=c0:a8:0:1",
        "-a", "test.auto=42");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("Report RPC returned OK");
  }

  @Test
  void attributeFlagsMayBeRepeated() {
    AttributeFlags flags = new AttributeFlags();
    CommandLine.populateCommand(new Object() {
      @Mixin
      AttributeFlags f = flags;
    }, "-s", "a.b=1,c.d=2", "-s", "e.f=3", "-i", "g.h=4", "-i", "i.j=5");
    assertThat(flags.toMap()).containsExactlyInAnyOrderEntriesOf(
        Map.of("a.b", "1", "c.d", "2", "e.f", "3", "g.h", 4L, "i.j", 5L));
  }

  @Test
  void badFlagValuesAreNamed() {
    Run r = mixc("check", "-m", mixer(), "-i", "request.size=twelve");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--int64_attributes: request.size=twelve");
  }

  @Test
  void unreachableMixerIsReportedNotThrown() {
    Run r = mixc("check", "-m", "localhost:1");
    assertThat(r.exit()).isEqualTo(Mixc.RPC_FAILED);
    assertThat(r.out()).contains("Check RPC failed with: UNAVAILABLE");
  }

  @Test
  void loadPrintsATableAndOneJsonLine() {
    for (String target : new String[] {"check", "report", "health"}) {
      Run r = mixc("load", "-m", mixer(), "--target", target, "--concurrency", "4",
          "--duration", "500ms", "--warmup", "100ms", "-s", "destination.service=a.ns.svc.cluster.local");
      assertThat(r.exit()).as(r.err()).isZero();
      assertThat(r.out()).contains("requests/s").contains("p99.9");
      String json = r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
      assertThat(json).contains("\"target\":\"" + target + "\"").contains("\"errors\":0");
      long requests = Long.parseLong(json.replaceAll(".*\"requests\":(\\d+).*", "$1"));
      assertThat(requests).isPositive();
    }
  }

  @Test
  void loadThroughTheClientLibraryPrintsItsCacheHits() {
    Run r = mixc("load", "-m", mixer(), "--client-cache", "--concurrency", "2", "--duration", "300ms",
        "--warmup", "100ms", "-s", "destination.service=a.ns.svc.cluster.local", "-q", "RequestCount=1");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("check (client cache)").contains("cache hits").contains("\"errors\":0");
    Run refused = mixc("load", "-m", mixer(), "--client-cache", "--target", "report");
    assertThat(refused.exit()).isEqualTo(Mixc.USAGE);
  }

  @Test
  void loadBatchesReportRecords() {
    Run r = mixc("load", "-m", mixer(), "--target", "report", "--records", "10", "--concurrency", "2",
        "--duration", "300ms", "--warmup", "100ms", "-s", "destination.service=a.ns.svc.cluster.local");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("records/s").contains("(10 per request)");
    String json = r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
    assertThat(json).contains("\"recordsPerRequest\":10").contains("\"errors\":0");
  }

  @Test
  void batchedReportRecordsAreDeltasWithTheirOwnIdTimeAndDuration() throws Exception {
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("destination.service", "a.ns.svc.cluster.local");
    attrs.put("request.id", "r");
    byte[] bytes = ReportCommand.batch(attrs, 3).toByteArray();
    DecodedReportRequest report = RequestDecoder.decodeReport(bytes);
    assertThat(report.recordCount()).isEqualTo(3);
    List<Map<String, Object>> records = new ArrayList<>();
    report.forEachRecord(bag -> records.add(bag.toMap()));
    assertThat(records).extracting(m -> m.get("request.id")).containsExactly("r-0", "r-1", "r-2");
    assertThat(records).extracting(m -> m.get("destination.service")).containsOnly("a.ns.svc.cluster.local");
    assertThat(records).extracting(m -> m.get("response.duration"))
        .containsExactly(Duration.ofMillis(1), Duration.ofMillis(8), Duration.ofMillis(15));
    // Deltas: the second record on the wire carries only what changed.
    assertThat(ReportRequest.parseFrom(bytes).getAttributes(1).getStringsCount())
        .isEqualTo(1);
  }

  @Test
  void exprEvaluatesJsonLinesInOrderAndSurvivesMalformedOnes(@TempDir Path dir)
      throws Exception {
    Path in = dir.resolve("in.jsonl");
    Files.write(in, List.of(
        "{\"expression\": \"request.size | 200\", \"manifest\": {\"request.size\": \"INT64\"}, \"attributes\": {}}",
        "not json at all",
        "{\"expression\": \"a = 2\", \"manifest\": {\"a\": \"INT64\"}, \"attributes\": {\"a\": 2}}",
        "{\"expression\": \"a == 2\", \"manifest\": {\"a\": \"INT64\"}, \"attributes\": {}}",
        "{\"expression\": \"source.ip\", \"manifest\": {\"source.ip\": \"IP_ADDRESS\"}, \"attributes\": {\"source.ip\": \"10.0.0.1\"}}",
        "{\"expression\": \"d\", \"manifest\": {\"d\": \"DURATION\"}, \"attributes\": {\"d\": \"1500ms\"}}",
        "{\"expression\": \"m\", \"manifest\": {\"m\": \"STRING_MAP\"}, \"attributes\": {\"m\": {\"k\": \"v\"}}}",
        "{\"expression\": \"a\", \"manifest\": {\"a\": \"INT64\"}, \"attributes\": {\"a\": \"two\"}}"));
    Run r = mixc("expr", in.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines()).containsExactly(
        "{\"type\":\"INT64\",\"value\":200}",
        "{\"error\":\"not JSON: Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\",\"phase\":\"input\"}",
        "{\"error\":\"unable to parse expression 'a = 2': 1:3: expected '==', found '='\",\"phase\":\"compile\"}",
        "{\"error\":\"lookup failed: 'a'\",\"phase\":\"eval\"}",
        "{\"type\":\"IP_ADDRESS\",\"value\":\"10.0.0.1\"}",
        "{\"type\":\"DURATION\",\"value\":\"1.5s\"}",
        "{\"type\":\"STRING_MAP\",\"value\":{\"k\":\"v\"}}",
        "{\"error\":\"attribute a: \\\"two\\\" is not a valid INT64 (not an integer)\",\"phase\":\"input\"}");
  }

  @Test
  void autoTypedAttributesPickTheNarrowestType() {
    assertThat(AttributeFlags.auto("42")).isEqualTo(42L);
    assertThat(AttributeFlags.auto("4.5")).isEqualTo(4.5);
    assertThat(AttributeFlags.auto("true")).isEqualTo(true);
    assertThat(AttributeFlags.auto("2017-11-21T10:15:30Z")).isEqualTo(Instant.parse("2017-11-21T10:15:30Z"));
    assertThat(AttributeFlags.auto("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(AttributeFlags.auto("ratings")).isEqualTo("ratings");
  }

  @Test
  void referencedAttributesAreDecodedAgainstTheResponseDictionary() {
    var refs = ReferencedAttributes.newBuilder()
        .addWords("request.headers").addWords("x-user")
        .addAttributeMatches(AttributeMatch.newBuilder()
            .setName(152).setCondition(Condition.EXACT))
        .addAttributeMatches(AttributeMatch.newBuilder()
            .setName(-1).setMapKey(-2).setCondition(Condition.ABSENCE))
        .build();
    StringWriter s = new StringWriter();
    CheckCommand.printReferenced(new PrintWriter(s, true), "", refs, Set.of("request.headers"));
    assertThat(s.toString()).contains("destination.service EXACT").contains("request.headers[x-user] ABSENCE");
    assertThat(CheckCommand.mapNames(Map.of("a", Map.of(), "b", "c"))).containsExactly("a");
  }
}

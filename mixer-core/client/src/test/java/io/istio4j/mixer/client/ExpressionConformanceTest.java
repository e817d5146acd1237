package io.istio4j.mixer.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Upstream's own expression test table (Istio 0.3.0 il/testing/tests.go plus 0.4.0 cases),
 * run through the same code as {@code mixc expr}. The phase of an error must match; the text is
 * upstream's where we have it (checked separately for the messages clients and operators see).
 */
class ExpressionConformanceTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Cases whose upstream result we deliberately differ from; each is explained in docs/RATIONALE.md. */
  private static final Set<String> DELIBERATE_DIFFERENCES = Set.of();

  static List<JsonNode> cases() throws Exception {
    List<JsonNode> cases = new ArrayList<>();
    try (InputStream in = ExpressionConformanceTest.class.getResourceAsStream("/conformance/expr_upstream.jsonl");
         BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isBlank()) {
          cases.add(JSON.readTree(line));
        }
      }
    }
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> upstreamExpressionTable() throws Exception {
    return cases().stream()
        .filter(c -> !DELIBERATE_DIFFERENCES.contains(c.get("id").asText()))
        .map(c -> DynamicTest.dynamicTest(c.get("id").asText() + " " + c.get("expression").asText(),
            () -> check(c)));
  }

  @Test
  void theTableIsComplete() throws Exception {
    assertThat(cases()).hasSize(199);
  }

  @Test
  void upstreamMessagesAreKeptForTheCommonErrors() throws Exception {
    for (JsonNode c : cases()) {
      String id = c.get("id").asText();
      JsonNode expect = c.get("expect");
      if (!expect.path("error").asBoolean() || !expect.has("upstream_message")) {
        continue;
      }
      String upstream = expect.get("upstream_message").asText();
      if (upstream.startsWith("lookup failed") || upstream.contains("typeError")
          || upstream.startsWith("unknown attribute") || upstream.startsWith("unknown function")
          || upstream.startsWith("invoking instance method") || upstream.startsWith("could not convert")
          || upstream.contains("expected '==', found '='") || upstream.contains("illegal character")) {
        ObjectNode out = ExpressionLines.evaluateToNode(c.toString());
        if (id.startsWith("tc-")) { // the type-check table gives only the gist of the message
          assertThat(out.path("error").asText()).as(id).contains(upstream);
        } else {
          assertThat(out.path("error").asText()).as(id).isEqualTo(upstream);
        }
      }
    }
  }

  private static void check(JsonNode c) {
    ObjectNode out = ExpressionLines.evaluateToNode(c.toString());
    JsonNode expect = c.get("expect");
    if (expect.path("error").asBoolean()) {
      assertThat(out.has("error")).as("expected an error, got %s", out).isTrue();
      assertThat(out.get("phase").asText()).as("phase of %s", out).isEqualTo(expect.get("phase").asText());
      return;
    }
    assertThat(out.has("error")).as("unexpected error %s", out).isFalse();
    assertThat(out.get("type").asText()).isEqualTo(expect.get("type").asText());
    if (expect.path("type_only").asBoolean()) {
      return;
    }
    JsonNode want = expect.get("value");
    JsonNode got = out.get("value");
    switch (expect.get("type").asText()) {
      case "DOUBLE" -> assertThat(got.asDouble()).isEqualTo(want.asDouble());
      case "INT64" -> {
        assertThat(got.isIntegralNumber()).as("%s is an integer", got).isTrue();
        assertThat(got.asLong()).isEqualTo(want.asLong());
      }
      case "TIMESTAMP" -> assertThat(Instant.parse(got.asText()))
          .isEqualTo(OffsetDateTime.parse(want.asText()).toInstant());
      default -> assertThat(got).isEqualTo(want);
    }
  }
}

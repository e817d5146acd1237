package com.acme.mixer.auditlog;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The auditlog adapter in an in-memory Mixer, with the config an operator would write. */
class AuditLogAdapterTest {

  private static final Map<String, Object> DELETE = Map.of(
      "destination.service", "reviews.default.svc.cluster.local",
      "request.method", "DELETE",
      "request.path", "/reviews/7",
      "request.time", Instant.parse("2017-11-21T10:15:30Z"),
      "response.code", 204L,
      "request.useragent", "curl/7.58.0 (x86_64)",
      "acme.tenant", "globex");
  private static final Map<String, Object> GET = Map.of(
      "destination.service", "reviews.default.svc.cluster.local",
      "request.method", "GET",
      "request.path", "/reviews/7",
      "request.time", Instant.parse("2017-11-21T10:15:31Z"),
      "response.code", 200L,
      "request.useragent", "curl/7.58.0 (x86_64)");

  @TempDir
  Path dir;

  private String config() throws IOException {
    return Files.readString(Path.of("src/test/resources/auditlog.yaml")).replace("/var/log/acme", dir.toString());
  }

  @Test
  void appendsOneJsonLinePerAuditedRequest() throws IOException {
    Path log = dir.resolve("audit.log");
    Scenario.builder()
        .adapters(new AuditLogAdapter())
        .config(config())
        .mixer(mixer -> mixer.allowOutputDir(dir))
        .report(DELETE, GET) // one Report of two requests: the rule audits only the DELETE
        .state(() -> lines(log))
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/auditlog.json"));
  }

  @Test
  void aPathOutsideTheAllowedDirectoriesRejectsTheHandler() throws IOException {
    try (TestMixer mixer = TestMixer.builder().adapters(new AuditLogAdapter()).config(config())
        .allowRejections().start()) {
      // The handler, and the rule that uses it, each with the reason.
      assertThat(mixer.rejected()).hasSize(2).allSatisfy(line -> assertThat(line)
          .contains("handler 'audit.auditlog.istio-system'").contains("--allowedOutputDir"));
    }
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

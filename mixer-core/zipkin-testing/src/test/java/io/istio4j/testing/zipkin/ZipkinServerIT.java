package io.istio4j.testing.zipkin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ZipkinServerIT {

  @Test
  void startsTakesSpansAndReturnsTheTrace() throws Exception {
    try (ZipkinServer zipkin = ZipkinServer.start()) {
      String span = "[{\"traceId\":\"463ac35c9f6413ad\",\"id\":\"a2fb4a1d1a96d312\",\"name\":\"get /\","
          + "\"timestamp\":1700000000000000,\"duration\":1000,\"localEndpoint\":{\"serviceName\":\"test\"},"
          + "\"tags\":{\"k\":\"v\"}}]";
      HttpResponse<String> posted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(zipkin.spansUrl()))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(span)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(posted.statusCode()).isEqualTo(202);

      List<ZipkinSpan> trace = zipkin.awaitTrace("463ac35c9f6413ad", t -> !t.isEmpty(), Duration.ofSeconds(10));

      assertThat(trace).singleElement().satisfies(s -> {
        assertThat(s.id()).isEqualTo("a2fb4a1d1a96d312");
        assertThat(s.serviceName()).isEqualTo("test");
        assertThat(s.tags()).containsEntry("k", "v");
      });
    }
  }
}

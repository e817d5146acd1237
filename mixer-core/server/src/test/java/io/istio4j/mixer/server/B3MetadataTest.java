package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import brave.propagation.TraceContext;
import io.grpc.Metadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class B3MetadataTest {

  private static Metadata headers(String... pairs) {
    Metadata m = new Metadata();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(Metadata.Key.of(pairs[i], Metadata.ASCII_STRING_MARSHALLER), pairs[i + 1]);
    }
    return m;
  }

  @Test
  void readsEnvoysMultiHeaderForm() {
    B3Metadata.Extracted e = B3Metadata.extract(headers("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124",
        "x-b3-spanid", "a2fb4a1d1a96d312", "x-b3-parentspanid", "0020000000000001", "x-b3-sampled", "1"));

    TraceContext c = e.value().context();
    assertThat(e.malformed()).isFalse();
    assertThat(c.traceIdString()).isEqualTo("463ac35c9f6413ad48485a3953bb6124");
    assertThat(c.spanIdString()).isEqualTo("a2fb4a1d1a96d312");
    assertThat(c.parentIdString()).isEqualTo("0020000000000001");
    assertThat(c.sampled()).isTrue();
  }

  @Test
  void readsTheSingleHeaderAndPrefersIt() {
    B3Metadata.Extracted e = B3Metadata.extract(headers("b3", "463ac35c9f6413ad-a2fb4a1d1a96d312-0-0020000000000001",
        "x-b3-traceid", "1111111111111111", "x-b3-spanid", "2222222222222222"));

    TraceContext c = e.value().context();
    assertThat(c.traceIdString()).isEqualTo("463ac35c9f6413ad");
    assertThat(c.sampled()).isFalse();
    assertThat(c.parentIdString()).isEqualTo("0020000000000001");
  }

  @Test
  void samplingOnlyAndDebugFlags() {
    assertThat(B3Metadata.extract(headers("b3", "d")).value().sampledLocal()).isFalse();
    assertThat(B3Metadata.extract(headers("b3", "d")).value().sampled()).isTrue();
    assertThat(B3Metadata.extract(headers("x-b3-sampled", "0")).value().sampled()).isFalse();
    assertThat(B3Metadata.extract(headers("x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312",
        "x-b3-flags", "1")).value().context().debug()).isTrue();
  }

  @Test
  void noHeadersIsNotMalformed() {
    assertThat(B3Metadata.extract(headers("x-request-id", "abc"))).isEqualTo(B3Metadata.Extracted.NONE);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "x-b3-traceid=463ac35c9f6413az|x-b3-spanid=a2fb4a1d1a96d312", // bad hex
      "x-b3-traceid=463ac35c9f6413ad1|x-b3-spanid=a2fb4a1d1a96d312", // 17 characters
      "x-b3-traceid=463ac35c9f6413ad|x-b3-spanid=a2fb4a1d1a96d31", // 15 characters
      "x-b3-traceid=0000000000000000|x-b3-spanid=a2fb4a1d1a96d312", // zero trace id
      "x-b3-traceid=463ac35c9f6413ad|x-b3-spanid=0000000000000000", // zero span id
      "x-b3-traceid=463ac35c9f6413ad", // span id missing
      "x-b3-spanid=a2fb4a1d1a96d312", // trace id missing
      "x-b3-traceid=463ac35c9f6413ad|x-b3-spanid=a2fb4a1d1a96d312|x-b3-sampled=yes",
      "x-b3-traceid=463ac35c9f6413ad|x-b3-spanid=a2fb4a1d1a96d312|x-b3-flags=2",
      "x-b3-traceid=463ac35c9f6413ad|x-b3-spanid=a2fb4a1d1a96d312|x-b3-parentspanid=12",
      "x-b3-parentspanid=a2fb4a1d1a96d312", // a parent alone
      "x-b3-traceid=٤63ac35c9f6413ad|x-b3-spanid=a2fb4a1d1a96d312", // a non-ASCII digit
      "b3=463ac35c9f6413ad", // no span id
      "b3=463ac35c9f6413ad-a2fb4a1d1a96d312-x",
      "b3=463ac35c9f6413ad-a2fb4a1d1a96d312-1-0020000000000001-extra",
      "b3=463ac35c9f6413ad--1",
      "b3=2",
      "b3=",
      "b3=-",
  })
  void malformedHeadersAreMalformedNotErrors(String spec) {
    String[] pairs = spec.replace('=', '|').split("\\|", -1);
    assertThat(B3Metadata.extract(headers(pairs)).malformed()).as(spec).isTrue();
  }

  @Test
  void hugeValuesAreMalformed() {
    String huge = "a".repeat(60_000);
    assertThat(B3Metadata.extract(headers("b3", huge)).malformed()).isTrue();
    assertThat(B3Metadata.extract(headers("x-b3-traceid", huge, "x-b3-spanid", huge)).malformed()).isTrue();
  }
}

package io.istio4j.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NamesTest {

  @Test
  void sanitizingTrimsOneLeadingSlashReplacesSlashDotAndSpaceAndDeletesDashes() {
    assertThat(Names.sanitize("request_count")).isEqualTo("request_count");
    assertThat(Names.sanitize("/request/count")).isEqualTo("request_count");
    assertThat(Names.sanitize("//x")).isEqualTo("_x");
    assertThat(Names.sanitize("source.service")).isEqualTo("source_service");
    assertThat(Names.sanitize("my metric")).isEqualTo("my_metric");
    assertThat(Names.sanitize("requestcount.metric.istio-system")).isEqualTo("requestcount_metric_istiosystem");
    assertThat(Names.sanitize("x-y-z")).isEqualTo("xyz");
  }

  @Test
  void metricNamesArePrefixedWithIstio() {
    assertThat(Names.metricName("request_count")).isEqualTo("istio_request_count");
    assertThat(Names.metricName("requestcount.metric.istio-system")).isEqualTo("istio_requestcount_metric_istiosystem");
  }

  @Test
  void validNamesFollowThePrometheusRules() {
    assertThat(Names.isValidMetricName("istio_request_count")).isTrue();
    assertThat(Names.isValidMetricName("istio_a:b")).isTrue();
    assertThat(Names.isValidMetricName("istio_ü")).isFalse();
    assertThat(Names.isValidMetricName("1x")).isFalse();
    assertThat(Names.isValidMetricName("")).isFalse();
    assertThat(Names.isValidLabelName("response_code")).isTrue();
    assertThat(Names.isValidLabelName("_x")).isTrue();
    assertThat(Names.isValidLabelName("__name__")).isFalse();
    assertThat(Names.isValidLabelName("a:b")).isFalse();
    assertThat(Names.isValidLabelName("9lives")).isFalse();
    assertThat(Names.isValidLabelName("")).isFalse();
  }
}

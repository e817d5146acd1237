package io.istio4j.adapters.stackdriver;

import io.istio4j.adapters.stackdriver.config.Params.LogInfo.HttpRequestMapping;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A validated stackdriver config, with every default applied.
 *
 * @param projectId the project written to
 * @param pushInterval how often metrics are pushed
 * @param apiKey the API key, or empty
 * @param serviceAccountPath the service account key file, or empty
 * @param timeout the deadline of one call
 * @param maxSeries series held per push interval
 * @param maxBufferedEntries log entries and spans waiting to be written
 * @param batchSize entries or spans per call
 * @param flushInterval how often log entries and spans are written
 * @param maxAttempts attempts of a call answered UNAVAILABLE
 * @param metrics metric instance FQN to its target
 * @param logs logentry instance FQN to its target
 */
record StackdriverConfig(String projectId, Duration pushInterval, String apiKey, String serviceAccountPath,
    Duration timeout, int maxSeries, int maxBufferedEntries, int batchSize, Duration flushInterval, int maxAttempts,
    Map<String, MetricTarget> metrics, Map<String, LogTarget> logs) {

  static final Duration DEFAULT_PUSH_INTERVAL = Duration.ofMinutes(1);
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  static final int DEFAULT_MAX_SERIES = 10_000;
  static final int DEFAULT_MAX_BUFFERED_ENTRIES = 10_000;
  static final int DEFAULT_BATCH_SIZE = 500;
  static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(1);
  static final int DEFAULT_MAX_ATTEMPTS = 3;

  /**
   * A validated {@code log_info} entry.
   *
   * @param instance the logentry instance's FQN
   * @param labelNames variables that become labels
   * @param template the text payload, or null for a JSON payload of every variable
   * @param http the HttpRequest mapping, or null
   */
  record LogTarget(String instance, List<String> labelNames, PayloadTemplate template, HttpRequestMapping http) {}
}

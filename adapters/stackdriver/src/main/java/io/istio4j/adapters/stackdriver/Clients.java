package io.istio4j.adapters.stackdriver;

import com.google.api.gax.core.CredentialsProvider;
import com.google.api.gax.core.FixedCredentialsProvider;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.InstantiatingGrpcChannelProvider;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.ClientSettings;
import com.google.api.gax.rpc.FixedHeaderProvider;
import com.google.api.gax.rpc.StatusCode;
import com.google.api.gax.rpc.UnaryCallSettings;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.logging.v2.LoggingClient;
import com.google.cloud.logging.v2.LoggingSettings;
import com.google.cloud.monitoring.v3.MetricServiceClient;
import com.google.cloud.monitoring.v3.MetricServiceSettings;
import com.google.cloud.trace.v2.TraceServiceClient;
import com.google.cloud.trace.v2.TraceServiceSettings;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The three Google clients of a handler, built from its config: endpoint, credentials, deadline
 * and retries. {@code STACKDRIVER_EMULATOR_HOST=host:port} (like Pub/Sub's and Firestore's
 * emulator variables) sends every call there over plaintext without credentials, whatever the
 * config says: how tests and local fakes are reached without editing an operator's config.
 */
final class Clients implements AutoCloseable {

  /** The environment variable that points every client at a local fake. */
  static final String EMULATOR_ENV = "STACKDRIVER_EMULATOR_HOST";

  static final List<String> SCOPES = List.of("https://www.googleapis.com/auth/cloud-platform");

  final MetricServiceClient metrics;
  final LoggingClient logging;
  final TraceServiceClient trace;

  /**
   * Where and how to connect.
   *
   * @param endpoint host:port, or empty for each API's default
   * @param plaintext no TLS and no credentials (an emulator or a test fake)
   * @param timeout the deadline of one call, retries included
   * @param maxAttempts attempts of a call answered UNAVAILABLE or DEADLINE_EXCEEDED
   */
  record Connection(String endpoint, boolean plaintext, Duration timeout, int maxAttempts) {}

  private Clients(MetricServiceClient metrics, LoggingClient logging, TraceServiceClient trace) {
    this.metrics = metrics;
    this.logging = logging;
    this.trace = trace;
  }

  /** The credentials the config names; thrown IOException says which field failed and why. */
  static CredentialsProvider credentials(StackdriverConfig config) throws IOException {
    if (!config.serviceAccountPath().isEmpty()) {
      try (InputStream in = Files.newInputStream(Path.of(config.serviceAccountPath()))) {
        return FixedCredentialsProvider.create(GoogleCredentials.fromStream(in).createScoped(SCOPES));
      } catch (IOException | RuntimeException e) {
        throw new IOException("service_account_path: '" + config.serviceAccountPath()
            + "' is not a readable service account key (" + e.getMessage() + ")", e);
      }
    }
    if (!config.apiKey().isEmpty()) {
      return NoCredentialsProvider.create();
    }
    try {
      return FixedCredentialsProvider.create(GoogleCredentials.getApplicationDefault().createScoped(SCOPES));
    } catch (IOException e) {
      throw new IOException("app_credentials: no Google Application Default Credentials (" + e.getMessage()
          + "); set GOOGLE_APPLICATION_CREDENTIALS, service_account_path or api_key", e);
    }
  }

  static Clients create(StackdriverConfig config, Connection connection) throws IOException {
    CredentialsProvider credentials = connection.plaintext() ? NoCredentialsProvider.create() : credentials(config);
    // Each attempt gets its share of the call's deadline, so an attempt that hits it (a stalled
    // API) leaves time for another; all attempts together stay within the configured timeout.
    Duration attempt = connection.timeout().dividedBy(Math.max(1, connection.maxAttempts()));
    RetrySettings retry = RetrySettings.newBuilder()
        .setInitialRetryDelayDuration(Duration.ofMillis(100))
        .setRetryDelayMultiplier(2)
        .setMaxRetryDelayDuration(Duration.ofSeconds(2))
        .setInitialRpcTimeoutDuration(attempt)
        .setMaxRpcTimeoutDuration(attempt)
        .setRpcTimeoutMultiplier(1)
        .setTotalTimeoutDuration(connection.timeout())
        .setMaxAttempts(connection.maxAttempts())
        .build();

    MetricServiceSettings.Builder m = MetricServiceSettings.newBuilder();
    configure(m, connection, credentials, config, MetricServiceSettings.defaultGrpcTransportProviderBuilder());
    retry(m.createTimeSeriesSettings(), retry);
    retry(m.createMetricDescriptorSettings(), retry);
    retry(m.getMetricDescriptorSettings(), retry);

    LoggingSettings.Builder l = LoggingSettings.newBuilder();
    configure(l, connection, credentials, config, LoggingSettings.defaultGrpcTransportProviderBuilder());
    retry(l.writeLogEntriesSettings(), retry);

    TraceServiceSettings.Builder t = TraceServiceSettings.newBuilder();
    configure(t, connection, credentials, config, TraceServiceSettings.defaultGrpcTransportProviderBuilder());
    retry(t.batchWriteSpansSettings(), retry);

    MetricServiceClient metrics = MetricServiceClient.create(m.build());
    LoggingClient logging = null;
    try {
      logging = LoggingClient.create(l.build());
      return new Clients(metrics, logging, TraceServiceClient.create(t.build()));
    } catch (IOException | RuntimeException e) {
      metrics.close();
      if (logging != null) {
        logging.close();
      }
      throw e;
    }
  }

  private static void retry(UnaryCallSettings.Builder<?, ?> settings, RetrySettings retry) {
    // Only outages are retried: INVALID_ARGUMENT and the like would be refused again, and a partly
    // refused CreateTimeSeries has written its good points already.
    settings.setRetryableCodes(StatusCode.Code.UNAVAILABLE, StatusCode.Code.DEADLINE_EXCEEDED)
        .setRetrySettings(retry);
  }

  private static <S extends ClientSettings<S>, B extends ClientSettings.Builder<S, B>> void configure(
      ClientSettings.Builder<S, B> settings, Connection connection, CredentialsProvider credentials,
      StackdriverConfig config, InstantiatingGrpcChannelProvider.Builder transport) {
    settings.setCredentialsProvider(credentials);
    if (!connection.endpoint().isEmpty()) {
      settings.setEndpoint(connection.endpoint());
      transport.setEndpoint(connection.endpoint());
    }
    if (connection.plaintext()) {
      transport.setChannelConfigurator(ManagedChannelBuilder::usePlaintext);
    }
    settings.setTransportChannelProvider(transport.build());
    if (!connection.plaintext() && !config.apiKey().isEmpty()) {
      settings.setHeaderProvider(FixedHeaderProvider.create("x-goog-api-key", config.apiKey()));
    }
  }

  @Override
  public void close() {
    metrics.close();
    logging.close();
    trace.close();
  }
}

package io.istio4j.adapters.stackdriver;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapters.stackdriver.config.Params;
import java.util.function.Function;

/**
 * The stackdriver adapter: metric instances become Cloud Monitoring time series ({@code
 * custom.googleapis.com/<instance>}), logentry instances Cloud Logging entries and tracespan
 * instances Cloud Trace spans, written in the background through Google's client libraries.
 *
 * <pre>{@code
 * kind: stackdriver
 * metadata: {name: handler, namespace: istio-system}
 * spec:
 *   project_id: my-project
 *   metricInfo:
 *     requestcount.metric.istio-system: {kind: CUMULATIVE, value: INT64}
 *   logInfo:
 *     accesslog.logentry.istio-system: {label_names: [source_user]}
 * }</pre>
 */
public final class StackdriverAdapter implements Adapter {

  static final Params DEFAULTS = Params.newBuilder()
      .setPushInterval(Durations.fromMinutes(1))
      .build();

  private final Function<String, String> environment;

  /** The adapter as Mixer loads it, reading {@code STACKDRIVER_EMULATOR_HOST} from the environment. */
  public StackdriverAdapter() {
    this(System::getenv);
  }

  /** An adapter reading its environment variables from {@code environment} (tests). */
  StackdriverAdapter(Function<String, String> environment) {
    this.environment = environment;
  }

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("stackdriver")
        .description("Writes metrics to Cloud Monitoring, logs to Cloud Logging and trace spans to Cloud Trace")
        .supportedTemplates("metric", "logentry", "tracespan")
        .defaultConfig(DEFAULTS)
        .builderFactory(() -> new StackdriverBuilder(environment))
        .build();
  }
}

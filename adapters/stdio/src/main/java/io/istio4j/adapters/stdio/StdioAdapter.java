package io.istio4j.adapters.stdio;

import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapters.stdio.config.Params;

/**
 * The {@code stdio} adapter: writes every {@code logentry} and {@code metric} instance as one line
 * (JSON or text) to stdout, stderr or a size-rotated file. Writing happens on a background thread
 * behind a bounded buffer, so a slow output never holds up a Report; what does not fit is dropped
 * and counted in {@code stdio_dropped_lines_total}.
 *
 * <pre>{@code
 * apiVersion: config.istio.io/v1alpha2
 * kind: stdio
 * metadata: {name: handler, namespace: istio-system}
 * spec:
 *   outputAsJson: true
 *   logStream: FILE
 *   outputPath: /var/log/mixer/access.log
 * }</pre>
 */
public final class StdioAdapter implements Adapter {

  /** Upstream's defaults (STDOUT, INFO, text) and this adapter's for its additional fields. */
  static final Params DEFAULT_CONFIG = Params.newBuilder()
      .setLogStream(Params.Stream.STDOUT)
      .setMetricLevel(Params.Level.INFO)
      .setOutputAsJson(false)
      .setMaxMegabytesBeforeRotation(100)
      .setMaxRotatedFiles(10)
      .setBufferSize(10_000)
      .build();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("stdio")
        .description("Writes log entries and metrics as lines to stdout, stderr or a rotated file")
        .supportedTemplates("logentry", "metric")
        .defaultConfig(DEFAULT_CONFIG)
        .builderFactory(StdioHandlerBuilder::new)
        .build();
  }
}

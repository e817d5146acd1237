package io.istio4j.adapters.stdio;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapters.stdio.config.Params;
import io.istio4j.template.logentry.LogEntryHandlerBuilder;
import io.istio4j.template.metric.MetricHandlerBuilder;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Checks a {@link Params} and builds a {@link StdioHandler} writing where it says. */
final class StdioHandlerBuilder implements LogEntryHandlerBuilder<Params>, MetricHandlerBuilder<Params> {

  /** One rotation megabyte, as lumberjack (upstream's file rotator) counts it. */
  static final long MEGABYTE = 1024 * 1024;

  /** The queue is allocated up front, so its size is capped well below what would exhaust the heap. */
  static final int MAX_BUFFER_SIZE = 10_000_000;

  private Params params = StdioAdapter.DEFAULT_CONFIG;

  @Override
  public void setAdapterConfig(Params config) {
    params = requireNonNull(config, "config");
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    Params.Stream stream = params.getLogStream();
    String path = params.getOutputPath();
    if (stream == Params.Stream.UNRECOGNIZED) {
      errors.add("logStream", params.getLogStreamValue() + " (expected: STDOUT, STDERR or FILE)");
    } else if (stream == Params.Stream.FILE) {
      validateOutputPath(path, errors);
    } else if (!path.isEmpty()) {
      // Catches the likely mistake of naming a file but forgetting logStream: FILE.
      errors.add("outputPath", "'" + path + "' with logStream " + stream + " (expected: logStream FILE, or no outputPath)");
    }
    if (params.getMetricLevel() == Params.Level.UNRECOGNIZED) {
      errors.add("metricLevel", params.getMetricLevelValue() + " (expected: INFO, WARNING or ERROR)");
    }
    params.getSeverityLevelsValueMap().forEach((severity, level) -> {
      if (Params.Level.forNumber(level) == null) {
        errors.add("severityLevels[" + severity + "]", level + " (expected: INFO, WARNING or ERROR)");
      }
    });
    if (params.getMaxMegabytesBeforeRotation() < 0) {
      errors.add("maxMegabytesBeforeRotation",
          params.getMaxMegabytesBeforeRotation() + " (expected: >= 0; 0 never rotates)");
    }
    if (params.getMaxRotatedFiles() < 0) {
      errors.add("maxRotatedFiles", params.getMaxRotatedFiles() + " (expected: >= 0)");
    }
    if (params.getBufferSize() <= 0 || params.getBufferSize() > MAX_BUFFER_SIZE) {
      errors.add("bufferSize", params.getBufferSize() + " (expected: 1-" + MAX_BUFFER_SIZE + ")");
    }
    return errors;
  }

  private static void validateOutputPath(String path, ConfigErrors errors) {
    if (path.isEmpty()) {
      errors.add("outputPath", "empty (expected: the file to write when logStream is FILE)");
      return;
    }
    Path file;
    try {
      file = Path.of(path).toAbsolutePath();
    } catch (InvalidPathException e) {
      errors.add("outputPath", "'" + path + "' (expected: a file path): " + e.getMessage());
      return;
    }
    Path directory = file.getParent();
    if (directory == null || !Files.isDirectory(directory)) {
      errors.add("outputPath", "'" + path + "' (expected: a file in an existing directory; "
          + directory + " is not one)");
    } else if (Files.isDirectory(file)) {
      errors.add("outputPath", "'" + path + "' is a directory (expected: a file)");
    }
  }

  /**
   * The file, if the operator allows writing it ({@code --allowedOutputDir}): a config must not be
   * able to overwrite any file the server can write.
   */
  private static Path confined(String outputPath, Env env) {
    try {
      return env.fileOutputPolicy().resolve(outputPath);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("outputPath: " + e.getMessage(), e);
    }
  }

  @Override
  public Handler build(Env env) throws Exception {
    Output output = switch (params.getLogStream()) {
      case STDERR -> new StreamOutput(System.err, "stderr");
      case FILE -> RotatingFileOutput.open(confined(params.getOutputPath(), env),
          params.getMaxMegabytesBeforeRotation() * MEGABYTE, params.getMaxRotatedFiles());
      default -> new StreamOutput(System.out, "stdout");
    };
    Map<String, String> severityLevels = new HashMap<>();
    params.getSeverityLevelsMap().forEach((severity, level) -> severityLevels.put(severity, LineFormat.levelName(level)));
    try {
      return StdioHandler.start(new LineFormat(params.getOutputAsJson()), severityLevels,
          LineFormat.levelName(params.getMetricLevel()), params.getBufferSize(), output, env);
    } catch (RuntimeException e) {
      output.close();
      throw e;
    }
  }
}

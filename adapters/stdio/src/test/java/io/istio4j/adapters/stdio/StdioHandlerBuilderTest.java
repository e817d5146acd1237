package io.istio4j.adapters.stdio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapters.stdio.config.Params;
import io.istio4j.template.logentry.LogEntryHandler;
import io.istio4j.template.logentry.LogEntryHandlerBuilder;
import io.istio4j.template.logentry.LogEntryInstance;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricHandlerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StdioHandlerBuilderTest {

  @TempDir
  Path dir;

  private static ConfigErrors validate(Params.Builder params) {
    StdioHandlerBuilder builder = new StdioHandlerBuilder();
    builder.setAdapterConfig(params.build());
    return builder.validate();
  }

  private static Params.Builder defaults() {
    return StdioAdapter.DEFAULT_CONFIG.toBuilder();
  }

  @Test
  void adapterIsStdioForLogEntriesAndMetricsWithUpstreamDefaults() {
    AdapterInfo info = new StdioAdapter().info();
    assertThat(info.name()).isEqualTo("stdio");
    assertThat(info.supportedTemplates()).containsExactly("logentry", "metric");
    assertThat(info.blocking()).isFalse();
    Params defaults = (Params) info.defaultConfig();
    assertThat(defaults.getLogStream()).isEqualTo(Params.Stream.STDOUT);
    assertThat(defaults.getMetricLevel()).isEqualTo(Params.Level.INFO);
    assertThat(defaults.getOutputAsJson()).isFalse();
    assertThat(defaults.getMaxMegabytesBeforeRotation()).isEqualTo(100);
    assertThat(defaults.getMaxRotatedFiles()).isEqualTo(10);
    assertThat(defaults.getBufferSize()).isEqualTo(10_000);
    assertThat(info.builderFactory().get())
        .isInstanceOf(LogEntryHandlerBuilder.class)
        .isInstanceOf(MetricHandlerBuilder.class);
  }

  @Test
  void adapterIsFoundByServiceLoader() {
    assertThat(ServiceLoader.load(Adapter.class).stream().map(ServiceLoader.Provider::type))
        .contains(StdioAdapter.class);
  }

  @Test
  void defaultsAreValid() {
    assertThat(validate(defaults()).errors()).isEmpty();
  }

  @Test
  void fileRequiresAnOutputPath() {
    assertThat(validate(defaults().setLogStream(Params.Stream.FILE)).toString())
        .isEqualTo("outputPath: empty (expected: the file to write when logStream is FILE)");
  }

  @Test
  void fileRequiresAnExistingDirectory() {
    String path = dir.resolve("missing/access.log").toString();
    assertThat(validate(defaults().setLogStream(Params.Stream.FILE).setOutputPath(path)).toString())
        .isEqualTo("outputPath: '" + path + "' (expected: a file in an existing directory; "
            + dir.resolve("missing") + " is not one)");
  }

  @Test
  void fileMustNotBeADirectory() {
    assertThat(validate(defaults().setLogStream(Params.Stream.FILE).setOutputPath(dir.toString())).toString())
        .isEqualTo("outputPath: '" + dir + "' is a directory (expected: a file)");
  }

  @Test
  void anOutputPathWithoutFileIsAMistake() {
    assertThat(validate(defaults().setOutputPath("/var/log/x.log")).toString())
        .isEqualTo("outputPath: '/var/log/x.log' with logStream STDOUT (expected: logStream FILE, or no outputPath)");
  }

  @Test
  void negativeAndZeroSizesAreRejectedNamingTheField() {
    ConfigErrors errors = validate(defaults()
        .setMaxMegabytesBeforeRotation(-1)
        .setMaxRotatedFiles(-2)
        .setBufferSize(0));
    assertThat(errors.errors()).extracting(ConfigErrors.ConfigError::toString).containsExactly(
        "maxMegabytesBeforeRotation: -1 (expected: >= 0; 0 never rotates)",
        "maxRotatedFiles: -2 (expected: >= 0)",
        "bufferSize: 0 (expected: 1-10000000)");
    assertThat(validate(defaults().setBufferSize(-5)).toString()).isEqualTo("bufferSize: -5 (expected: 1-10000000)");
    assertThat(validate(defaults().setBufferSize(10_000_001)).toString())
        .isEqualTo("bufferSize: 10000001 (expected: 1-10000000)");
  }

  @Test
  void zeroRotationSizeAndZeroRotatedFilesAreAllowed() {
    assertThat(validate(defaults().setMaxMegabytesBeforeRotation(0).setMaxRotatedFiles(0)).errors()).isEmpty();
  }

  @Test
  void unknownEnumNumbersAreRejected() {
    ConfigErrors errors = validate(defaults()
        .setLogStreamValue(7)
        .setMetricLevelValue(9)
        .putSeverityLevelsValue("Default", 0)
        .putSeverityLevelsValue("Weird", 5));
    assertThat(errors.errors()).extracting(ConfigErrors.ConfigError::toString).containsExactly(
        "logStream: 7 (expected: STDOUT, STDERR or FILE)",
        "metricLevel: 9 (expected: INFO, WARNING or ERROR)",
        "severityLevels[Weird]: 5 (expected: INFO, WARNING or ERROR)");
  }

  @Test
  void aFileHandlerAppendsJsonLinesAndClosesTheFile() throws Exception {
    Path file = dir.resolve("access.log");
    StdioHandlerBuilder builder = new StdioHandlerBuilder();
    builder.setAdapterConfig(defaults()
        .setLogStream(Params.Stream.FILE)
        .setOutputPath(file.toString())
        .setOutputAsJson(true)
        .putSeverityLevels("Error", Params.Level.ERROR)
        .build());
    assertThat(builder.validate().errors()).isEmpty();
    try (TestEnv env = TestEnv.builder().allowOutputDir(dir).backgroundThreads().build()) {
      Handler handler = builder.build(env);
      assertThat(handler).isInstanceOf(LogEntryHandler.class).isInstanceOf(MetricHandler.class);
      ((LogEntryHandler) handler).handleLogEntry(List.of(new LogEntryInstance("accesslog.logentry.istio-system",
          Map.of("code", 500L), Instant.parse("2017-09-01T12:00:00Z"), "Error", "UNSPECIFIED", Map.of())));
      handler.close();
      handler.close(); // closing twice is harmless
    }
    assertThat(Files.readAllLines(file)).containsExactly("{\"level\":\"error\",\"time\":\"2017-09-01T12:00:00.000Z\","
        + "\"instance\":\"accesslog.logentry.istio-system\",\"code\":500}");
  }

  @Test
  void aFileOutsideTheAllowedDirectoriesIsRefusedNamingThePathAndTheFlag() throws Exception {
    Path allowed = Files.createDirectories(dir.resolve("logs"));
    Path outside = dir.resolve("precious.txt");
    Files.writeString(outside, "keep");
    StdioHandlerBuilder builder = new StdioHandlerBuilder();
    builder.setAdapterConfig(defaults().setLogStream(Params.Stream.FILE).setOutputPath(outside.toString()).build());
    assertThat(builder.validate().errors()).isEmpty(); // mixs validate cannot know the server's flags
    try (TestEnv env = TestEnv.builder().allowOutputDir(allowed).build()) {
      assertThatThrownBy(() -> builder.build(env))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("outputPath: '" + outside + "'")
          .hasMessageContaining("--allowedOutputDir");
    }
    try (TestEnv none = TestEnv.create()) { // Mixer's default: no file at all
      assertThatThrownBy(() -> builder.build(none))
          .hasMessageContaining("writing files is not allowed (start mixs server with --allowedOutputDir DIR");
    }
    assertThat(Files.readString(outside)).isEqualTo("keep");
  }

  @Test
  void aSymbolicLinkCannotLeadOutOfTheAllowedDirectory() throws Exception {
    Path allowed = Files.createDirectories(dir.resolve("logs"));
    Path precious = Files.writeString(dir.resolve("precious.txt"), "keep");
    Files.createSymbolicLink(allowed.resolve("access.log"), precious);
    Files.createSymbolicLink(allowed.resolve("up"), dir);
    try (TestEnv env = TestEnv.builder().allowOutputDir(allowed).build()) {
      for (String path : new String[] {allowed.resolve("access.log").toString(), allowed.resolve("up/x.log").toString(),
          allowed + "/../precious.txt"}) {
        StdioHandlerBuilder builder = new StdioHandlerBuilder();
        builder.setAdapterConfig(defaults().setLogStream(Params.Stream.FILE).setOutputPath(path).build());
        assertThatThrownBy(() -> builder.build(env)).hasMessageContaining("outputPath: '" + path + "'");
      }
    }
    assertThat(Files.readString(precious)).isEqualTo("keep");
  }
}

package io.istio4j.adapters.stdio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.template.logentry.LogEntryInstance;
import io.istio4j.template.metric.MetricInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

class StdioHandlerTest {

  private static final Instant TIME = Instant.parse("2017-09-01T11:59:00Z");
  private static final Instant NOW = Instant.parse("2017-09-01T12:00:00.5Z");
  private final TestEnv env = TestEnv.builder().startingAt(NOW).backgroundThreads().build();
  private final RecordingOutput output = new RecordingOutput();

  @AfterEach
  void stopEnv() {
    output.release();
    env.close();
  }

  private static LogEntryInstance entry(String severity, String url) {
    return new LogEntryInstance("accesslog.logentry.istio-system", Map.of("url", url), TIME, severity,
        "UNSPECIFIED", Map.of());
  }

  private static List<LogEntryInstance> entries(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> entry("Default", "/" + i)).toList();
  }

  private StdioHandler handler(int bufferSize) {
    return handler(bufferSize, env);
  }

  private StdioHandler handler(int bufferSize, TestEnv on) {
    return StdioHandler.start(new LineFormat(false), Map.of("Error", "error", "Warning", "warn"), "warn",
        bufferSize, output, on);
  }

  /** The value of {@code stdio_dropped_lines} for the output and reason. */
  private static double dropped(TestEnv on, String output, String reason) {
    return on.counterValue(StdioHandler.DROPPED_METRIC, "output", output, "reason", reason);
  }

  private double dropped(String output, String reason) {
    return dropped(env, output, reason);
  }

  @Test
  void severityLevelsMapSeveritiesAndOthersAreInfo() {
    StdioHandler handler = handler(10);
    handler.handleLogEntry(List.of(entry("Error", "/a"), entry("Warning", "/b"), entry("Default", "/c"),
        entry("error", "/d")));
    handler.close();
    assertThat(output.lines()).containsExactly(
        "error\t2017-09-01T11:59:00.000Z\taccesslog.logentry.istio-system\turl=/a",
        "warn\t2017-09-01T11:59:00.000Z\taccesslog.logentry.istio-system\turl=/b",
        "info\t2017-09-01T11:59:00.000Z\taccesslog.logentry.istio-system\turl=/c",
        "info\t2017-09-01T11:59:00.000Z\taccesslog.logentry.istio-system\turl=/d");
  }

  @Test
  void metricLinesHaveTheMetricLevelAndTheClocksTime() {
    StdioHandler handler = handler(10);
    handler.handleMetric(List.of(new MetricInstance("requestcount.metric.istio-system", 1L,
        Map.of("code", 200L), "UNSPECIFIED", Map.of())));
    handler.close();
    assertThat(output.lines()).containsExactly(
        "warn\t2017-09-01T12:00:00.500Z\trequestcount.metric.istio-system\tvalue=1 code=200");
  }

  @Test
  void closeWritesEverythingBufferedAndClosesTheOutput() throws Exception {
    output.block();
    StdioHandler handler = handler(1000);
    handler.handleLogEntry(entries(0, 500));
    output.release();
    handler.close();
    assertThat(output.lines()).hasSize(500).last().asString().endsWith("url=/499");
    assertThat(output.isClosed()).isTrue();
    assertThat(dropped("recording", "buffer_full")).isZero();
  }

  @Test
  void handleReturnsAtOnceWhileTheWriterIsBlockedAndCountsWhatDoesNotFit() throws Exception {
    output.block();
    StdioHandler handler = handler(3);
    handler.handleLogEntry(entries(0, 1));
    output.awaitWriteEntered(); // the writer holds /0 and waits for the output

    // The writer stays blocked until release() below; handle must not wait for it.
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> handler.handleLogEntry(entries(1, 11)));
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> handler.handleMetric(List.of(
        new MetricInstance("requestcount.metric.istio-system", 1L, Map.of(), "UNSPECIFIED", Map.of()))));

    assertThat(handler.buffered()).isEqualTo(3);
    assertThat(dropped("recording", "buffer_full")).isEqualTo(8);
    handler.warnAboutLostLines();
    assertThat(env.messages(Level.WARN)).containsExactly(
        "8 line(s) dropped: the buffer of 3 lines for recording was full (output slower than traffic)");
    handler.warnAboutLostLines();
    assertThat(env.messages(Level.WARN)).hasSize(1); // nothing new to report

    output.release();
    handler.close();
    assertThat(output.lines()).extracting(l -> l.substring(l.lastIndexOf('=') + 1))
        .containsExactly("/0", "/1", "/2", "/3");
  }

  @Test
  void closeGivesUpOnAStuckOutputAfterTheDrainTimeout() throws Exception {
    output.block();
    StdioHandler handler = handler(10);
    handler.handleLogEntry(entries(0, 5));
    output.awaitWriteEntered();

    handler.close(); // returns after StdioHandler.DRAIN_TIMEOUT although the output never returns

    assertThat(dropped("recording", "close_timeout")).isEqualTo(4);
    assertThat(env.messages(Level.WARN)).contains(
        "4 line(s) for recording not written within 2000 ms of closing the handler");
    assertThat(output.awaitClosed()).isTrue(); // the interrupted writer closed the output
    handler.handleLogEntry(entries(5, 6)); // ignored after close
    assertThat(handler.buffered()).isZero();
  }

  @Test
  void closeClosesTheOutputItselfWhenTheWriterNeverRan() throws Exception {
    TestEnv starved = TestEnv.builder().startingAt(NOW).build(); // without threads, daemons never run
    StdioHandler handler = handler(10, starved);
    handler.handleLogEntry(entries(0, 2));

    handler.close();

    assertThat(output.isClosed()).isTrue();
    assertThat(output.lines()).isEmpty();
    assertThat(dropped(starved, "recording", "close_timeout")).isEqualTo(2);
    assertThat(starved.scheduled()).filteredOn(t -> t.kind() == TestEnv.ScheduledTask.Kind.DAEMON)
        .singleElement().satisfies(writer -> assertThat(writer.isCancelled()).isTrue());
  }

  @Test
  void failedWritesAreCountedAndLoggedWithTheError() {
    output.failLinesContaining("url=/bad");
    StdioHandler handler = handler(10);
    handler.handleLogEntry(List.of(entry("Default", "/ok"), entry("Default", "/bad"), entry("Default", "/bad2"),
        entry("Default", "/fine")));
    handler.close();
    assertThat(output.lines()).extracting(l -> l.substring(l.lastIndexOf('=') + 1)).containsExactly("/ok", "/fine");
    assertThat(dropped("recording", "write_error")).isEqualTo(2);
    assertThat(env.messages(Level.WARN)).containsExactly("2 line(s) could not be written to recording: java.io.IOException: disk full");
  }

  @Test
  void aFileHandlerRotatesAtTheGivenSize(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("access.log");
    StdioHandler handler = StdioHandler.start(new LineFormat(true), Map.of(), "info", 100,
        RotatingFileOutput.open(file, 300, 2), env);
    handler.handleLogEntry(entries(0, 10)); // 107 bytes a line: two lines a file
    handler.close();

    List<String> all = new ArrayList<>();
    for (String name : List.of("access.log.2", "access.log.1", "access.log")) {
      List<String> lines = Files.readAllLines(dir.resolve(name));
      assertThat(lines).hasSize(2);
      assertThat(Files.size(dir.resolve(name))).isLessThanOrEqualTo(300);
      all.addAll(lines);
    }
    assertThat(all).extracting(l -> l.substring(l.indexOf("\"url\":")))
        .containsExactly("\"url\":\"/4\"}", "\"url\":\"/5\"}", "\"url\":\"/6\"}", "\"url\":\"/7\"}",
            "\"url\":\"/8\"}", "\"url\":\"/9\"}");
    assertThat(Files.exists(dir.resolve("access.log.3"))).isFalse();
  }
}

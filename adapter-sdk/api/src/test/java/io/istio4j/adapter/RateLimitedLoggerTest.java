package io.istio4j.adapter;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

class RateLimitedLoggerTest {

  private final ListLogger log = new ListLogger();
  private final MutableClock clock = new MutableClock();
  private final RateLimitedLogger limited = RateLimitedLogger.of(log, 3, Duration.ofSeconds(10), clock);

  @Test
  void aFloodWritesABoundedNumberOfLines() {
    for (int i = 0; i < 100_000; i++) {
      limited.warn("bad request {}", i);
    }
    assertThat(log.lines).containsExactly("WARN bad request 0", "WARN bad request 1", "WARN bad request 2");

    clock.advance(Duration.ofSeconds(10));
    limited.warn("bad request {}", "again");
    assertThat(log.lines).hasSize(5).endsWith(
        "WARN 99997 similar message(s) suppressed in the last PT10S: bad request {}",
        "WARN bad request again");
  }

  @Test
  void argumentsAreEscaped() {
    limited.warn("attribute {}={} ({} bytes)", "a\nb", "x".repeat(300), 300);
    assertThat(log.lines).singleElement().asString()
        .isEqualTo("WARN attribute a\\nb=" + "x".repeat(256) + "...(44 more) (300 bytes)");
  }

  @Test
  void aTrailingThrowableStaysTheCause() {
    IllegalStateException e = new IllegalStateException("boom");
    limited.error("handler {} failed", "h", e);
    assertThat(log.lines).containsExactly("ERROR handler h failed");
    assertThat(log.causes).containsExactly(e);
  }

  @Test
  void anExceptionQuotingTheRequestIsEscapedWithItsStackTrace() {
    IllegalStateException e = new IllegalStateException("bad value 'x\nWARN forged'",
        new IllegalArgumentException("inner\r\n"));
    limited.warn("handler {} threw", "h", e);
    assertThat(log.causes).singleElement().satisfies(t -> {
      assertThat(t.toString()).isEqualTo("java.lang.IllegalStateException: bad value 'x\\nWARN forged'");
      assertThat(t.getStackTrace()).isEqualTo(e.getStackTrace());
      assertThat(t.getCause().toString()).isEqualTo("java.lang.IllegalArgumentException: inner\\r\\n");
    });
  }

  private static final class ListLogger extends LegacyAbstractLogger {
    final List<String> lines = new ArrayList<>();
    final List<Throwable> causes = new ArrayList<>();

    ListLogger() {
      this.name = "test";
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
        Throwable t) {
      lines.add(level + " " + MessageFormatter.basicArrayFormat(pattern, args));
      if (t != null) {
        causes.add(t);
      }
    }

    @Override
    public boolean isTraceEnabled() {
      return true;
    }

    @Override
    public boolean isDebugEnabled() {
      return true;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }
  }

  private static final class MutableClock extends Clock {
    private Instant now = Instant.parse("2017-10-10T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}

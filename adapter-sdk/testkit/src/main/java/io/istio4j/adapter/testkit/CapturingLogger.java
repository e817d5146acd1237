package io.istio4j.adapter.testkit;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Keeps every event, at every level, for the test to read, and passes it on to the logger of the
 * same name so that the test's logging configuration still prints it. One instance per
 * {@link TestEnv}, not from the logger factory, so tests running side by side never see each
 * other's lines.
 */
final class CapturingLogger extends LegacyAbstractLogger {

  private final transient Logger delegate;
  private final transient Queue<TestEnv.LogLine> lines = new ConcurrentLinkedQueue<>();

  CapturingLogger(String name) {
    this.name = name;
    this.delegate = LoggerFactory.getLogger(name);
  }

  List<TestEnv.LogLine> lines() {
    return List.copyOf(lines);
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

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern, Object[] arguments,
      Throwable throwable) {
    String message = String.valueOf(MessageFormatter.basicArrayFormat(messagePattern, arguments));
    lines.add(new TestEnv.LogLine(level, message, throwable));
    if (!delegate.isEnabledForLevel(level)) {
      return;
    }
    LoggingEventBuilder event = delegate.atLevel(level).setCause(throwable);
    if (marker != null) {
      event = event.addMarker(marker);
    }
    if (arguments != null) {
      for (Object argument : arguments) {
        event = event.addArgument(argument);
      }
    }
    event.log(messagePattern);
  }
}

package com.acme.mixer.blocklist;

import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Status;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryInstance;
import java.time.Duration;
import java.util.Set;

/** Denies the values on its list; answers from memory, so Mixer calls it on the request thread. */
final class BlocklistHandler implements ListEntryHandler {

  private static final int VALID_USE_COUNT = 1000;

  private final Set<String> blocked;
  private final Duration validDuration;
  private final Counter.Child allowed;
  private final Counter.Child denied;

  BlocklistHandler(Set<String> blocked, Duration validDuration, Counter.Child allowed, Counter.Child denied) {
    this.blocked = blocked;
    this.validDuration = validDuration;
    this.allowed = allowed;
    this.denied = denied;
  }

  @Override
  public CheckResult handleListEntry(ListEntryInstance instance) {
    if (blocked.contains(instance.value())) {
      denied.inc();
      // The value is the client's: it goes to the client, never into a log line unescaped.
      return CheckResult.of(Status.of(Status.Code.PERMISSION_DENIED, instance.value() + " is blocked"),
          validDuration, VALID_USE_COUNT);
    }
    allowed.inc();
    return CheckResult.of(Status.OK, validDuration, VALID_USE_COUNT);
  }

  @Override
  public void close() {}
}

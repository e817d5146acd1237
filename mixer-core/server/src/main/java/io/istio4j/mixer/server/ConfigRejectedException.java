package io.istio4j.mixer.server;

import io.istio4j.mixer.runtime.ObjectStatus;
import java.util.List;

/**
 * {@code --configStrict}: the first config has rejected objects, so Mixer does not start. The
 * message lists every rejected object, one per line.
 */
final class ConfigRejectedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;
  private final transient List<ObjectStatus> rejected;

  ConfigRejectedException(List<ObjectStatus> rejected) {
    super(message(rejected));
    this.rejected = List.copyOf(rejected);
  }

  private static String message(List<ObjectStatus> rejected) {
    StringBuilder b = new StringBuilder("--configStrict: ").append(rejected.size())
        .append(" config object(s) rejected; not starting until the config is fixed:");
    for (ObjectStatus s : rejected) {
      b.append("\n  ").append(s.describe().replace("\n", "\n    "));
    }
    return b.toString();
  }

  /** The rejected objects. */
  public List<ObjectStatus> rejected() {
    return rejected;
  }
}

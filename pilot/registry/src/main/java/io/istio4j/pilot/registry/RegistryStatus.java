package io.istio4j.pilot.registry;

import java.util.Map;

/**
 * A registry that can say how its source is doing (informers watching, files loaded or broken),
 * for {@code /debug/registryz}. Values are JSON-able: strings, numbers, booleans, lists and maps.
 */
public interface RegistryStatus {
  /** The registry's own state, e.g. each file's load status or each informer's errors. */
  Map<String, Object> status();
}

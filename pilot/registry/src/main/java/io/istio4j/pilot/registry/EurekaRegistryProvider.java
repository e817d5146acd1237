package io.istio4j.pilot.registry;

import io.istio4j.pilot.model.ServiceRegistry;
import java.time.Duration;
import java.util.List;

/**
 * {@code eureka://host:port[/PATH][?interval=2s&timeout=30s&syncTimeout=60s&maxBytes=64m]}: an
 * {@link EurekaRegistry}; without {@code PATH} the apps path is detected.
 */
public final class EurekaRegistryProvider implements RegistryProvider {
  private static final List<String> SETTINGS = List.of("interval", "timeout", "syncTimeout", "maxBytes");

  @Override
  public String name() {
    return "eureka";
  }

  @Override
  public String usage() {
    return "eureka://HOST:PORT[/PATH]";
  }

  @Override
  public ServiceRegistry open(String spec, RegistryOptions options) {
    RemoteSpec s = RemoteSpec.parse(spec, "eureka", true, SETTINGS);
    String path = s.path();
    if (path.endsWith("/apps")) {
      path = path.substring(0, path.length() - "/apps".length());
    }
    EurekaRegistry.Options d = EurekaRegistry.Options.of(s.base());
    return new EurekaRegistry(new EurekaRegistry.Options(s.base(), s.path().isEmpty() ? null : path,
        s.duration("interval", d.interval(), Duration.ofMillis(10)),
        s.duration("timeout", d.timeout(), Duration.ofMillis(10)),
        s.duration("syncTimeout", d.syncTimeout(), Duration.ZERO),
        s.bytes("maxBytes", d.maxBytes())));
  }
}

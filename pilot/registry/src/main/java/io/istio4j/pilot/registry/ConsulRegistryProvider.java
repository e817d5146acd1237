package io.istio4j.pilot.registry;

import io.istio4j.pilot.model.ServiceRegistry;
import java.time.Duration;
import java.util.List;

/**
 * {@code consul://host:port[?health=true&wait=5m&timeout=30s&minInterval=100ms&retry=1s&maxRetry=30s
 * &syncTimeout=60s&maxBytes=64m]}: a {@link ConsulRegistry}.
 */
public final class ConsulRegistryProvider implements RegistryProvider {
  private static final List<String> SETTINGS =
      List.of("health", "wait", "timeout", "minInterval", "retry", "maxRetry", "syncTimeout", "maxBytes");

  @Override
  public String name() {
    return "consul";
  }

  @Override
  public String usage() {
    return "consul://HOST:PORT";
  }

  @Override
  public ServiceRegistry open(String spec, RegistryOptions options) {
    RemoteSpec s = RemoteSpec.parse(spec, "consul", false, SETTINGS);
    if (!s.path().isEmpty()) {
      throw new IllegalArgumentException("registry '" + spec + "': a path is not accepted (expected consul://HOST:PORT)");
    }
    ConsulRegistry.Options d = ConsulRegistry.Options.of(s.base());
    return new ConsulRegistry(new ConsulRegistry.Options(s.base(),
        s.flag("health", d.health()),
        s.duration("wait", d.blockingWait(), Duration.ofSeconds(1)),
        s.duration("timeout", d.timeout(), Duration.ofMillis(10)),
        s.duration("minInterval", d.minInterval(), Duration.ZERO),
        s.duration("retry", d.retry(), Duration.ofMillis(1)),
        s.duration("maxRetry", d.maxRetry(), Duration.ofMillis(1)),
        s.duration("syncTimeout", d.syncTimeout(), Duration.ZERO),
        s.bytes("maxBytes", d.maxBytes())));
  }
}

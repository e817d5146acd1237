package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;

/** A config object: metadata plus its spec message (e.g. a {@code RouteRule}). */
public record Config(ConfigMeta meta, Message spec) {
  public Config {
    requireNonNull(meta, "meta");
    requireNonNull(spec, "spec");
    if (!spec.getDescriptorForType().equals(meta.kind().defaultInstance().getDescriptorForType())) {
      throw new IllegalArgumentException(
          meta.key() + ": spec is a " + spec.getDescriptorForType().getFullName() + ", expected "
              + meta.kind().defaultInstance().getDescriptorForType().getFullName());
    }
  }

  /** The spec as its message class. */
  public <T extends Message> T spec(Class<T> type) {
    return type.cast(spec);
  }

  /** Upstream's key, {@code type/namespace/name}. */
  public String key() {
    return meta.key();
  }
}

package io.istio4j.pilot.injector;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Whether pods get a sidecar when they do not say ({@code sidecar.istio.io/inject}), as upstream
 * 0.2's injector: the injector's {@code policy}, or a namespace's {@code istio-injection} label.
 */
public enum InjectionPolicy {
  /** Pods get a sidecar unless they say {@code sidecar.istio.io/inject: "false"}. */
  ENABLED,
  /** Pods get no sidecar unless they say {@code sidecar.istio.io/inject: "true"}. */
  DISABLED;

  /** The name as written in config and labels: {@code enabled}, {@code disabled}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The policy {@code value} names ({@code enabled}/{@code disabled}, any case), or null for anything else. */
  public static @Nullable InjectionPolicy parse(@Nullable String value) {
    if (value == null) {
      return null;
    }
    return switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "enabled" -> ENABLED;
      case "disabled" -> DISABLED;
      default -> null;
    };
  }
}

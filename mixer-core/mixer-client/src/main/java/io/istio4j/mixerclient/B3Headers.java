package io.istio4j.mixerclient;

import brave.Tracing;
import brave.propagation.B3Propagation;
import brave.propagation.Propagation;
import brave.propagation.TraceContext;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The B3 headers ({@code x-b3-traceid}, {@code x-b3-spanid}, {@code x-b3-parentspanid},
 * {@code x-b3-sampled}) of the caller's current Brave span, sent as Check metadata so Mixer's server
 * span joins the caller's trace as its child (what Envoy does for Check, spec §7.4).
 *
 * <p>Brave is an optional dependency: this class is touched only after {@link #AVAILABLE} says Brave
 * is on the class path, so a service without Brave never loads it.
 */
final class B3Headers {

  /** Whether Brave is on the class path. */
  static final boolean AVAILABLE = bravepresent();

  private B3Headers() {}

  /** The current span's B3 headers, or an empty map when nothing is being traced. */
  static Map<String, String> current() {
    if (!AVAILABLE) {
      return Map.of();
    }
    return Brave.current();
  }

  private static boolean bravepresent() {
    try {
      Class.forName("brave.Tracing", false, B3Headers.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** Holds every reference to Brave's types, so that they load only when Brave is present. */
  private static final class Brave {
    // gRPC metadata keys are lower case (Brave writes X-B3-TraceId).
    private static final Propagation.Setter<Map<String, String>, String> SETTER =
        (headers, key, value) -> headers.put(key.toLowerCase(Locale.ROOT), value);
    private static final TraceContext.Injector<Map<String, String>> INJECTOR =
        B3Propagation.newFactoryBuilder()
            .injectFormat(B3Propagation.Format.MULTI)
            .build()
            .get()
            .injector(SETTER);

    static Map<String, String> current() {
      Tracing tracing = Tracing.current();
      if (tracing == null) {
        return Map.of();
      }
      TraceContext context = tracing.currentTraceContext().get();
      if (context == null) {
        return Map.of();
      }
      Map<String, String> headers = new LinkedHashMap<>(8);
      INJECTOR.inject(context, headers);
      return headers;
    }
  }
}

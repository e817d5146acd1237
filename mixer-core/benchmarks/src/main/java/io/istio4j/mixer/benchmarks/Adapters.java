package io.istio4j.mixer.benchmarks;

import com.google.protobuf.Message;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.Handler;
import io.istio4j.mixer.runtime.HandlerEnv;
import io.istio4j.mixer.runtime.HandlerFactory;
import io.istio4j.mixer.runtime.RegistryAdapterMetrics;
import io.istio4j.mixer.runtime.SpecParser;
import io.istio4j.mixer.runtime.Templates;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Executors;

/** Builds handlers of bundled adapters the way Mixer does, for benchmarks. */
final class Adapters {

  private Adapters() {}

  static Handler build(String adapter, Map<String, ?> spec, String template, Map<String, ?> types) throws Exception {
    Templates templates = Templates.load(Adapters.class.getClassLoader());
    AdapterInfo info = null;
    for (Adapter a : ServiceLoader.load(Adapter.class)) {
      if (a.info().name().equals(adapter)) {
        info = a.info();
      }
    }
    if (info == null) {
      throw new IllegalStateException("adapter " + adapter + " not on the class path");
    }
    Message config = SpecParser.parse(spec, info.defaultConfig());
    HandlerEnv env = new HandlerEnv(adapter, "bench." + adapter + ".istio-system", Clock.systemUTC(),
        Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r);
          t.setDaemon(true);
          return t;
        }), Executors.newCachedThreadPool(r -> {
          Thread t = new Thread(r);
          t.setDaemon(true);
          return t;
        }), new RegistryAdapterMetrics(new PrometheusRegistry()));
    return new HandlerFactory(templates).build("bench." + adapter + ".istio-system", info, config,
        Map.of(template, types), env);
  }
}

package io.istio4j.mixer.server;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.MixerRuntime;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.runtime.config.FsStore;
import io.istio4j.mixer.runtime.config.MemoryStore;
import io.istio4j.mixer.server.kubernetes.KubernetesLocation;
import io.istio4j.mixer.server.kubernetes.KubernetesStore;
import io.istio4j.mixer.server.kubernetes.MixerKind;
import java.io.IOException;
import java.time.Clock;

/**
 * Wires mixer-core's parts: options, metrics, the template and adapter inventory (found with
 * ServiceLoader: adapters never see Guice), the config store named by {@code --configStoreURL}, and
 * the runtime that answers requests.
 */
final class MixerModule extends AbstractModule {

  private final ServerOptions options;
  private final ConfigStoreLocation location;
  private final TracingOptions tracing;

  /** {@code location} is the parsed {@code --configStoreURL}, or null for none. */
  MixerModule(ServerOptions options, ConfigStoreLocation location) {
    this(options, location, TracingOptions.DISABLED);
  }

  /** As {@link #MixerModule(ServerOptions, ConfigStoreLocation)}, tracing as {@code tracing} says. */
  MixerModule(ServerOptions options, ConfigStoreLocation location, TracingOptions tracing) {
    this.options = options;
    this.location = location;
    this.tracing = tracing;
  }

  @Override
  protected void configure() {
    bind(ServerOptions.class).toInstance(options);
    bind(ServerMetrics.class).in(Singleton.class);
    bind(Clock.class).toInstance(Clock.systemUTC());
    bind(RequestProcessor.class).to(MixerRuntime.class);
  }

  @Provides
  @Singleton
  Templates templates() {
    return Templates.load(MixerModule.class.getClassLoader());
  }

  @Provides
  @Singleton
  Adapters adapters(Templates templates) {
    return Adapters.load(MixerModule.class.getClassLoader(), templates);
  }

  @Provides
  @Singleton
  ConfigStore configStore(Templates templates, Adapters adapters) {
    if (location == null) {
      return new MemoryStore(options.configDefaultNamespace());
    }
    KubernetesLocation k8s = location.kubernetes();
    if (k8s != null) {
      try {
        return new KubernetesStore(k8s.client(), true, MixerKind.of(templates, adapters),
            k8s.storeOptions(options.configDefaultNamespace()));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("configStoreURL: " + location.url() + ": cannot make a Kubernetes client: "
            + e.getMessage(), e);
      }
    }
    return new FsStore(location.directory(), options.configDefaultNamespace(), MixerServer.CONFIG_POLL_INTERVAL);
  }

  @Provides
  @Singleton
  MixerTracing tracing(ServerMetrics metrics) {
    return MixerTracing.create(tracing, metrics.registry());
  }

  @Provides
  @Singleton
  MixerRuntime runtime(Templates templates, Adapters adapters, ServerMetrics metrics, Clock clock,
      MixerTracing tracing) {
    return new MixerRuntime(templates, adapters, options.runtime(), metrics.registry(), clock,
        tracing.spanReporter());
  }
}

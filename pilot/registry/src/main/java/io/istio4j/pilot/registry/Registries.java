package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.istio4j.pilot.model.ServiceRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.StringJoiner;

/**
 * Opens the registries named by {@code --registries}: a comma list of {@code file://DIR} and
 * {@code kubernetes} (or {@code Kubernetes}, as Istio 0.2 spelled it), plus whatever
 * {@link RegistryProvider}s are on the class path. The result is their aggregate, in the given
 * order (the first registry that knows a hostname answers for it), not yet started.
 *
 * <pre>{@code
 * AggregateRegistry registries = Registries.open("file://examples/pilot-quickstart/services,kubernetes",
 *     "cluster.local");
 * }</pre>
 */
public final class Registries {
  private Registries() {}

  /** {@link #open(String, RegistryOptions)} with default options for this domain. */
  public static AggregateRegistry open(String spec, String domain) {
    return open(spec, RegistryOptions.of(domain));
  }

  /**
   * The aggregate of the registries {@code spec} names.
   *
   * @throws IllegalArgumentException for an empty or unknown element, a registry named twice or a
   *     file registry whose directory does not exist; the message names the element
   */
  public static AggregateRegistry open(String spec, RegistryOptions options) {
    requireNonNull(spec, "spec");
    requireNonNull(options, "options");
    Map<String, RegistryProvider> providers = providers();
    List<ServiceRegistry> opened = new ArrayList<>();
    List<String> names = new ArrayList<>();
    try {
      if (spec.isBlank()) {
        throw new IllegalArgumentException("--registries is empty (expected: " + usage(providers) + ")");
      }
      for (String raw : spec.split(",", -1)) {
        String element = raw.strip();
        if (element.isEmpty()) {
          throw new IllegalArgumentException(
              "--registries '" + spec + "': an element is empty (expected: " + usage(providers) + ")");
        }
        int scheme = element.indexOf("://");
        String name = (scheme < 0 ? element : element.substring(0, scheme)).toLowerCase(Locale.ROOT);
        RegistryProvider p = providers.get(name);
        if (p == null) {
          throw new IllegalArgumentException(
              "--registries '" + spec + "': unknown registry '" + element + "' (expected: " + usage(providers) + ")");
        }
        ServiceRegistry r = p.open(element, options);
        if (names.contains(r.name())) {
          r.close();
          throw new IllegalArgumentException("--registries '" + spec + "': " + r.name() + " is named twice");
        }
        names.add(r.name());
        opened.add(r);
      }
    } catch (RuntimeException e) {
      for (ServiceRegistry r : opened) {
        try {
          r.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
    return new AggregateRegistry(opened);
  }

  private static String usage(Map<String, RegistryProvider> providers) {
    StringJoiner j = new StringJoiner(", ");
    for (RegistryProvider p : providers.values()) {
      j.add(p.usage());
    }
    return "a comma list of " + j;
  }

  private static Map<String, RegistryProvider> providers() {
    Map<String, RegistryProvider> out = new LinkedHashMap<>();
    out.put("file", new FileProvider());
    out.put("kubernetes", new KubernetesProvider());
    for (RegistryProvider p : ServiceLoader.load(RegistryProvider.class, Registries.class.getClassLoader())) {
      out.putIfAbsent(p.name().toLowerCase(Locale.ROOT), p);
    }
    return out;
  }

  /** {@code file://DIR}: a {@link FileRegistry}. */
  static final class FileProvider implements RegistryProvider {
    @Override
    public String name() {
      return "file";
    }

    @Override
    public String usage() {
      return "file://DIR";
    }

    @Override
    public ServiceRegistry open(String spec, RegistryOptions options) {
      if (!spec.regionMatches(true, 0, "file://", 0, "file://".length())) {
        throw new IllegalArgumentException("registry '" + spec + "': expected file://DIR");
      }
      String dir = spec.substring("file://".length());
      if (dir.isEmpty()) {
        throw new IllegalArgumentException("registry '" + spec + "': the directory is missing (expected file://DIR)");
      }
      Path path = Path.of(dir).toAbsolutePath().normalize();
      if (!Files.isDirectory(path)) {
        throw new IllegalArgumentException("registry '" + spec + "': " + path + " is not a directory");
      }
      Duration poll = options.filePollInterval();
      return new FileRegistry(new FileRegistry.Options(path, options.domain(), poll, FileRegistry.Options.DEFAULT_MAX_FILE_BYTES));
    }
  }

  /** {@code kubernetes}: a {@link KubernetesRegistry}. */
  static final class KubernetesProvider implements RegistryProvider {
    @Override
    public String name() {
      return "kubernetes";
    }

    @Override
    public ServiceRegistry open(String spec, RegistryOptions options) {
      if (!spec.equalsIgnoreCase("kubernetes")) {
        throw new IllegalArgumentException("registry '" + spec + "': expected kubernetes (no arguments)");
      }
      KubernetesRegistry.Options o =
          new KubernetesRegistry.Options(options.domain(), options.kubernetesNamespace(), Duration.ZERO);
      if (options.kubernetesClient() != null) {
        return new KubernetesRegistry(options.kubernetesClient().get(), false, o);
      }
      KubernetesClient client = new KubernetesClientBuilder().build();
      return new KubernetesRegistry(client, true, o);
    }
  }
}

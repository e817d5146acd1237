package io.istio4j.pilot.injector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.discovery.MeshSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Upstream 0.2's injection test data and the settings its tests ran with. */
final class Fixtures {

  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Fixtures() {}

  /** A file of upstream's {@code platform/kube/inject/testdata}. */
  static String upstream(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/upstream-pilot/inject/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test data " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Upstream's {@code proxy.DefaultMeshConfig()} as its injection tests saw it. */
  static MeshConfig mesh02() {
    MeshConfig d = MeshSettings.defaultMeshConfig();
    return d.toBuilder().setDefaultConfig(d.getDefaultConfig().toBuilder()
        .setDiscoveryAddress("istio-pilot:8080").setZipkinAddress("").setStatsdUdpAddress("")).build();
  }

  /** The parameters upstream's {@code TestIntoResourceFile} used. */
  static InjectorConfig config02(boolean debug, String pullPolicy, boolean coreDump) {
    return InjectorConfig.defaults().withParams(new InjectorConfig.Params("docker.io/istio/proxy_init:unittest",
        debug ? "docker.io/istio/proxy_debug:unittest" : "docker.io/istio/proxy:unittest", pullPolicy, 2, 1337,
        "12345678", "", debug, coreDump));
  }

  static SidecarInjector injector(InjectorConfig config) {
    return new SidecarInjector(config, mesh02(), SidecarTemplate.defaultTemplate());
  }

  /** Every YAML document in {@code text}, empty ones left out. */
  static List<JsonNode> docs(String text) {
    List<JsonNode> out = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(text)) {
      while (it.hasNextValue()) {
        JsonNode n = it.nextValue();
        if (n != null && !n.isNull() && !n.isMissingNode() && !(n.isObject() && n.isEmpty())) {
          out.add(n);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /**
   * Leaves out what Go's serialization added and meaning does not depend on: {@code
   * creationTimestamp: null}, workloads' zero {@code status}, empty {@code strategy}, {@code
   * updateStrategy} and {@code resources}, and
   * {@code sizeLimit: "0"}.
   */
  static JsonNode normalize(JsonNode node) {
    JsonNode copy = node.deepCopy();
    if (copy instanceof ObjectNode o) {
      o.remove("status"); // Go wrote the zero status of workloads (replicas: 0)
    }
    strip(copy);
    return copy;
  }

  private static void strip(JsonNode node) {
    if (node instanceof ObjectNode o) {
      for (Iterator<Map.Entry<String, JsonNode>> it = o.properties().iterator(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String k = e.getKey();
        JsonNode v = e.getValue();
        boolean emptyObject = v.isObject() && v.isEmpty();
        if ((k.equals("creationTimestamp") && v.isNull()) || (emptyObject && Set.of("status", "strategy",
            "updateStrategy", "resources").contains(k)) || (k.equals("sizeLimit") && v.asText().equals("0"))) {
          it.remove();
        } else {
          strip(v);
        }
      }
    } else if (node != null && node.isArray()) {
      node.forEach(Fixtures::strip);
    }
  }
}

package io.istio4j.mixer.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The config status page ({@code /debug/config}): every object of the live snapshot, its state and error. */
public final class ConfigStatusJson {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ConfigStatusJson() {}

  /** Renders {@code snapshot} as JSON. */
  public static String render(Snapshot snapshot, boolean ready) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("ready", ready);
    root.put("version", snapshot.version());
    root.put("rules", snapshot.ruleCount());
    root.put("handlers", new ArrayList<>(snapshot.handlers().keySet()));
    root.put("attributes", snapshot.manifest().size());
    Map<String, Integer> counts = new LinkedHashMap<>();
    List<Map<String, Object>> objects = new ArrayList<>();
    for (ObjectStatus s : snapshot.statuses()) {
      counts.merge(s.state().name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("name", s.fqn());
      o.put("kind", s.kind());
      o.put("source", s.source());
      o.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
      if (!s.error().isEmpty()) {
        o.put("field", s.field());
        o.put("error", s.error());
      }
      Snapshot.HandlerEntry handler = snapshot.handlers().get(s.fqn());
      if (handler != null && handler.env() != null && handler.env().error() != null) {
        o.put("handlerError", handler.env().error()); // reported by the handler itself (Env.reportError)
      }
      objects.add(o);
    }
    root.put("counts", counts);
    root.put("objects", objects);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

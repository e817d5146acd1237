package io.istio4j.mixer.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The config status page ({@code /debug/config}): every object of the live snapshot, its state and
 * error. A {@code stale} object's rejected edit is shown with its error next to the version still
 * in use ({@code live}); with {@code --configStrict}, the rejections of a change that was not
 * applied are listed under {@code refused}.
 */
public final class ConfigStatusJson {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ConfigStatusJson() {}

  /** Renders {@code snapshot} as JSON. */
  public static String render(Snapshot snapshot, boolean ready) {
    return render(snapshot, ready ? Readiness.ready("") : Readiness.notReady(""), List.of());
  }

  /** Renders a runtime's live snapshot, readiness and refused change as JSON. */
  public static String render(MixerRuntime runtime) {
    return render(runtime.snapshot(), runtime.readiness(), runtime.refused());
  }

  /**
   * Renders {@code snapshot} as JSON.
   *
   * @param refused the rejections of a change not applied because of {@code --configStrict}
   */
  public static String render(Snapshot snapshot, Readiness readiness, List<ObjectStatus> refused) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("ready", readiness.ready());
    if (!readiness.reason().isEmpty()) {
      root.put("reason", readiness.reason());
    }
    root.put("version", snapshot.version());
    root.put("rules", snapshot.ruleCount());
    root.put("handlers", new ArrayList<>(snapshot.handlers().keySet()));
    root.put("attributes", snapshot.manifest().size());
    Map<String, Integer> counts = new LinkedHashMap<>();
    List<Map<String, Object>> objects = new ArrayList<>();
    for (ObjectStatus s : snapshot.statuses()) {
      counts.merge(name(s.state()), 1, Integer::sum);
      Map<String, Object> o = object(s);
      Snapshot.HandlerEntry handler = snapshot.handlers().get(s.fqn());
      if (handler != null && handler.env() != null && handler.env().error() != null) {
        o.put("handlerError", handler.env().error()); // reported by the handler itself (Env.reportError)
      }
      objects.add(o);
    }
    root.put("counts", counts);
    root.put("objects", objects);
    if (!refused.isEmpty()) {
      List<Map<String, Object>> notApplied = new ArrayList<>();
      for (ObjectStatus s : refused) {
        notApplied.add(object(s));
      }
      root.put("refused", notApplied);
    }
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Object> object(ObjectStatus s) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("name", s.fqn());
    o.put("kind", s.kind());
    o.put("source", s.source());
    o.put("state", name(s.state()));
    if (!s.error().isEmpty()) {
      o.put("field", s.field());
      o.put("error", s.error());
    }
    if (s.live() != null) {
      Map<String, Object> live = new LinkedHashMap<>();
      live.put("source", s.live().source());
      live.put("since", s.live().since());
      live.put("state", name(s.live().state()));
      o.put("live", live);
    }
    return o;
  }

  private static String name(ObjectStatus.State state) {
    return state.name().toLowerCase(Locale.ROOT);
  }
}

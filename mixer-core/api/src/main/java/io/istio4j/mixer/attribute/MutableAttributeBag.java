package io.istio4j.mixer.attribute;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A bag of materialized values, indexed by {@link AttributeName} id. Used for Report's
 * delta-encoded records (each record is applied on top of the previous ones), by clients to build
 * requests, and in tests.
 *
 * <pre>{@code
 * MutableAttributeBag bag = new MutableAttributeBag()
 *     .set("destination.service", "ratings.default.svc.cluster.local")
 *     .set("request.size", 512L);
 * }</pre>
 */
public final class MutableAttributeBag implements AttributeBag {

  private Object[] byId = new Object[NameTable.size()];
  private Map<String, Object> unknown;
  private final ReferenceLog references = new ReferenceLog();

  /** Sets an attribute; see {@link AttributeBag} for the accepted value types. */
  public MutableAttributeBag set(String name, Object value) {
    requireNonNull(name, "name");
    return set(AttributeName.of(name), value);
  }

  /** Sets an attribute; see {@link AttributeBag} for the accepted value types. */
  public MutableAttributeBag set(AttributeName name, Object value) {
    requireNonNull(name, "name");
    put(name, normalize(name.name(), value));
    return this;
  }

  /** Copies all of {@code values} in. */
  public MutableAttributeBag setAll(Map<String, ?> values) {
    values.forEach(this::set);
    return this;
  }

  void put(AttributeName name, Object value) {
    int id = name.id();
    if (id >= byId.length) {
      byId = Arrays.copyOf(byId, Math.max(id + 1, NameTable.size()));
    }
    byId[id] = value;
  }

  void putUnknown(String name, Object value) {
    if (unknown == null) {
      unknown = new LinkedHashMap<>();
    }
    unknown.put(name, value);
  }

  /** Applies a delta record: its attributes overwrite or add to these. */
  void apply(CompressedAttributeBag delta) {
    delta.copyInto(this);
  }

  @Override
  public Object get(AttributeName name) {
    int id = name.id();
    Object v = id < byId.length ? byId[id] : null;
    if (v == null) {
      references.absent(name);
    } else {
      references.exact(name);
    }
    return v;
  }

  @Override
  public boolean contains(AttributeName name) {
    return name.id() < byId.length && byId[name.id()] != null;
  }

  @Override
  public String getMapValue(AttributeName map, MapKey key) {
    int id = map.id();
    Object v = id < byId.length ? byId[id] : null;
    if (v == null) {
      references.absent(map);
      return null;
    }
    String s = v instanceof Map<?, ?> m ? (String) m.get(key.key()) : null;
    if (s == null) {
      references.absentKey(map, key);
    } else {
      references.exactKey(map, key);
    }
    return s;
  }

  @Override
  public Set<String> names() {
    return toMap().keySet();
  }

  @Override
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int id = 0; id < byId.length; id++) {
      if (byId[id] != null) {
        m.put(NameTable.byId(id).name(), byId[id]);
      }
    }
    if (unknown != null) {
      m.putAll(unknown);
    }
    return m;
  }

  @Override
  public ReferenceLog references() {
    return references;
  }

  /** Checks a value is one of the bag's types; widens Integer to Long and copies maps. */
  static Object normalize(String name, Object value) {
    requireNonNull(value, "value");
    if (value instanceof String || value instanceof Long || value instanceof Double
        || value instanceof Boolean || value instanceof Instant || value instanceof Duration) {
      return value;
    }
    if (value instanceof Integer i) {
      return i.longValue();
    }
    if (value instanceof byte[] b) {
      return b.clone();
    }
    if (value instanceof Map<?, ?> m) {
      Map<String, String> copy = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String) || !(e.getValue() instanceof String)) {
          throw new IllegalArgumentException(
              "attribute " + name + ": string map entries must be strings: " + e);
        }
        copy.put((String) e.getKey(), (String) e.getValue());
      }
      return Collections.unmodifiableMap(copy);
    }
    throw new IllegalArgumentException("attribute " + name + ": unsupported value type "
        + value.getClass().getName()
        + " (expected: String, Long, Double, Boolean, Instant, Duration, byte[], Map<String, String>)");
  }

}

package io.istio4j.pilot.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import com.google.re2j.Pattern;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.pgv.validate.Validate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Checks Envoy resources against the protoc-gen-validate constraints their protos declare (the
 * {@code validate.rules} options carried by the control-plane {@code api} jar, read from the
 * descriptors at run time, since that jar ships no generated validators). It walks every set field,
 * unpacks the {@code Any}s it knows (the filters and options this translator emits) and reports each
 * violated rule with its path, e.g.
 * {@code Cluster outbound|80||a.b: load_assignment.endpoints[0].load_balancing_weight.value: 0 (expected >= 1)}.
 *
 * <p>Covered: numeric const/lt/lte/gt/gte/in/not_in (incl. wrapper types), string lengths, prefix,
 * suffix, pattern, in/not_in and the HTTP header name/value well-known regexes, bytes lengths, enum
 * defined_only, repeated min/max items and per-item rules, map pairs, required messages and oneofs,
 * duration and Any rules. Not covered: timestamp rules and the email/hostname/ip/uri well-known
 * string formats (Envoy's resources here do not use them on fields we set).
 */
public final class ResourceValidator {
  private static final Map<String, Message> KNOWN_ANY = new HashMap<>();

  static {
    for (Message m : List.of(HttpConnectionManager.getDefaultInstance(), Router.getDefaultInstance(),
        HTTPFault.getDefaultInstance(), TcpProxy.getDefaultInstance(), UpstreamTlsContext.getDefaultInstance(),
        DownstreamTlsContext.getDefaultInstance(), HttpProtocolOptions.getDefaultInstance(),
        Cluster.getDefaultInstance(), ClusterLoadAssignment.getDefaultInstance(), Listener.getDefaultInstance(),
        RouteConfiguration.getDefaultInstance())) {
      KNOWN_ANY.put("type.googleapis.com/" + m.getDescriptorForType().getFullName(), m);
    }
  }

  // PGV's HTTP_HEADER_NAME / HTTP_HEADER_VALUE (strict) expressions.
  private static final Pattern HEADER_NAME = Pattern.compile("^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$");
  private static final Pattern HEADER_VALUE = Pattern.compile("^[^\\x00-\\x08\\x0A-\\x1F\\x7F]*$");
  private static final Pattern LOOSE = Pattern.compile("^[^\\x00\\n\\r]*$");

  private ResourceValidator() {}

  /** The violations of one resource, each prefixed with the resource's type and name; empty when valid. */
  public static List<String> validate(Message resource) {
    return validate(resource, null);
  }

  /**
   * As {@link #validate(Message)}, skipping virtual hosts found (by identity) in {@code clean} and
   * adding those found valid: a route configuration whose virtual hosts are reused instances is
   * then checked only where it changed.
   */
  static List<String> validate(Message resource, @Nullable Map<Message, Boolean> clean) {
    List<String> out = new ArrayList<>();
    String name = resource.getDescriptorForType().getName() + " " + resourceName(resource) + ": ";
    new Walker(out, name, clean).message(resource, "");
    return out;
  }

  /** The violations of every resource of a proxy. */
  public static List<String> validate(ProxyResources r) {
    List<String> out = new ArrayList<>();
    r.clusters().forEach(m -> out.addAll(validate(m)));
    r.endpoints().forEach(m -> out.addAll(validate(m)));
    r.listeners().forEach(m -> out.addAll(validate(m)));
    r.routes().forEach(m -> out.addAll(validate(m)));
    return out;
  }

  private static String resourceName(Message m) {
    if (m instanceof Cluster c) {
      return c.getName();
    } else if (m instanceof ClusterLoadAssignment c) {
      return c.getClusterName();
    } else if (m instanceof Listener l) {
      return l.getName();
    } else if (m instanceof RouteConfiguration r) {
      return r.getName();
    }
    return "";
  }

  private static final class Walker {
    private final List<String> out;
    private final String prefix;
    private final @Nullable Map<Message, Boolean> clean;

    Walker(List<String> out, String prefix, @Nullable Map<Message, Boolean> clean) {
      this.out = out;
      this.prefix = prefix;
      this.clean = clean;
    }

    private void fail(String path, String what) {
      out.add(prefix + (path.isEmpty() ? "(root)" : path) + ": " + what);
    }

    void message(Message m, String path) {
      if (clean != null && m instanceof VirtualHost) {
        if (clean.containsKey(m)) {
          return;
        }
        int before = out.size();
        walk(m, path);
        if (out.size() == before) {
          clean.put(m, Boolean.TRUE);
        }
        return;
      }
      walk(m, path);
    }

    private void walk(Message m, String path) {
      var options = m.getDescriptorForType().getOptions();
      if (options.getExtension(Validate.disabled) || options.getExtension(Validate.ignored)) {
        return;
      }
      if (m instanceof Any any) {
        Message known = KNOWN_ANY.get(any.getTypeUrl());
        if (known != null) {
          try {
            message(known.getParserForType().parseFrom(any.getValue()), path + "<" + known.getDescriptorForType().getName() + ">");
          } catch (InvalidProtocolBufferException e) {
            fail(path, "Any of " + any.getTypeUrl() + " does not parse: " + e.getMessage());
          }
        }
        return;
      }
      for (OneofDescriptor o : m.getDescriptorForType().getRealOneofs()) {
        if (o.getOptions().getExtension(Validate.required) && !m.hasOneof(o)) {
          fail(join(path, o.getName()), "one of the oneof's fields is required");
        }
      }
      for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
        String fp = join(path, f.getName());
        Validate.FieldRules rules = f.getOptions().hasExtension(Validate.rules) ? f.getOptions().getExtension(Validate.rules) : null;
        if (f.isMapField()) {
          List<?> entries = (List<?>) m.getField(f);
          if (rules != null && rules.hasMap()) {
            mapRules(rules.getMap(), entries, fp);
          }
          for (Object e : entries) {
            Message entry = (Message) e;
            FieldDescriptor vf = entry.getDescriptorForType().findFieldByName("value");
            if (vf.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
              message((Message) entry.getField(vf), fp + "[" + entry.getField(entry.getDescriptorForType().findFieldByName("key")) + "]");
            }
          }
          continue;
        }
        if (f.isRepeated()) {
          int n = m.getRepeatedFieldCount(f);
          if (rules != null && rules.hasRepeated()) {
            Validate.RepeatedRules rr = rules.getRepeated();
            if (rr.hasMinItems() && n < rr.getMinItems()) {
              fail(fp, n + " items (expected at least " + rr.getMinItems() + ")");
            }
            if (rr.hasMaxItems() && n > rr.getMaxItems()) {
              fail(fp, n + " items (expected at most " + rr.getMaxItems() + ")");
            }
            if (rr.getUnique()) {
              Set<Object> seen = new HashSet<>();
              for (int i = 0; i < n; i++) {
                if (!seen.add(m.getRepeatedField(f, i))) {
                  fail(fp + "[" + i + "]", "duplicate item (items must be unique)");
                }
              }
            }
          }
          for (int i = 0; i < n; i++) {
            Object v = m.getRepeatedField(f, i);
            String ip = fp + "[" + i + "]";
            if (rules != null && rules.hasRepeated() && rules.getRepeated().hasItems()) {
              value(f, rules.getRepeated().getItems(), v, ip, true);
            }
            if (v instanceof Message vm) {
              message(vm, ip);
            }
          }
          continue;
        }
        boolean present = f.hasPresence() ? m.hasField(f) : true;
        if (f.getRealContainingOneof() != null && !present) {
          // PGV checks a oneof member only when it is the one set.
          continue;
        }
        if (rules != null) {
          if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            boolean required = (rules.hasMessage() && rules.getMessage().getRequired())
                || (rules.hasDuration() && rules.getDuration().getRequired())
                || (rules.hasAny() && rules.getAny().getRequired())
                || (rules.hasTimestamp() && rules.getTimestamp().getRequired());
            if (required && !present) {
              fail(fp, "value is required");
            }
            if (present) {
              value(f, rules, m.getField(f), fp, true);
            }
          } else if (present) {
            value(f, rules, m.getField(f), fp, m.hasField(f) || !f.hasPresence());
          }
        }
        if (present && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
            && !(rules != null && rules.hasMessage() && rules.getMessage().getSkip())) {
          message((Message) m.getField(f), fp);
        }
      }
    }

    private void mapRules(Validate.MapRules mr, List<?> entries, String fp) {
      int n = entries.size();
      if (mr.hasMinPairs() && n < mr.getMinPairs()) {
        fail(fp, n + " pairs (expected at least " + mr.getMinPairs() + ")");
      }
      if (mr.hasMaxPairs() && n > mr.getMaxPairs()) {
        fail(fp, n + " pairs (expected at most " + mr.getMaxPairs() + ")");
      }
      for (Object e : entries) {
        Message entry = (Message) e;
        FieldDescriptor kf = entry.getDescriptorForType().findFieldByName("key");
        FieldDescriptor vf = entry.getDescriptorForType().findFieldByName("value");
        if (mr.hasKeys()) {
          value(kf, mr.getKeys(), entry.getField(kf), fp + ".key", true);
        }
        if (mr.hasValues()) {
          value(vf, mr.getValues(), entry.getField(vf), fp + "[" + entry.getField(kf) + "]", true);
        }
      }
    }

    /** Checks one (non-repeated) value against its type rules. */
    private void value(FieldDescriptor f, Validate.FieldRules rules, Object v, String fp, boolean set) {
      switch (rules.getTypeCase()) {
        case STRING -> {
          Object s = unwrap(v);
          if (s instanceof String str) {
            string(rules.getString(), str, fp);
          }
        }
        case BYTES -> {
          Object b = unwrap(v);
          if (b instanceof ByteString bs) {
            Validate.BytesRules br = rules.getBytes();
            if (br.hasMinLen() && bs.size() < br.getMinLen()) {
              fail(fp, bs.size() + " bytes (expected at least " + br.getMinLen() + ")");
            }
            if (br.hasMaxLen() && bs.size() > br.getMaxLen()) {
              fail(fp, bs.size() + " bytes (expected at most " + br.getMaxLen() + ")");
            }
          }
        }
        case ENUM -> {
          if (v instanceof EnumValueDescriptor e) {
            Validate.EnumRules er = rules.getEnum();
            if (er.getDefinedOnly() && e.getIndex() < 0) {
              fail(fp, "enum value " + e.getNumber() + " is not defined");
            }
            if (er.hasConst() && e.getNumber() != er.getConst()) {
              fail(fp, e.getName() + " (expected " + er.getConst() + ")");
            }
            if (er.getInCount() > 0 && !er.getInList().contains(e.getNumber())) {
              fail(fp, e.getName() + " (expected one of " + er.getInList() + ")");
            }
            if (er.getNotInList().contains(e.getNumber())) {
              fail(fp, e.getName() + " is not allowed");
            }
          }
        }
        case DURATION -> {
          if (v instanceof Duration d) {
            duration(rules.getDuration(), d, fp);
          }
        }
        case ANY -> {
          if (v instanceof Any a) {
            Validate.AnyRules ar = rules.getAny();
            if (ar.getInCount() > 0 && !ar.getInList().contains(a.getTypeUrl())) {
              fail(fp, a.getTypeUrl() + " (expected one of " + ar.getInList() + ")");
            }
            if (ar.getNotInList().contains(a.getTypeUrl())) {
              fail(fp, a.getTypeUrl() + " is not allowed");
            }
          }
        }
        case TYPE_NOT_SET, REPEATED, MAP, TIMESTAMP, BOOL -> { }
        default -> {
          Message numeric = (Message) rules.getField(Validate.FieldRules.getDescriptor().findFieldByNumber(rules.getTypeCase().getNumber()));
          Object n = unwrap(v);
          if (n instanceof Number num) {
            numeric(numeric, num, fp, unsigned(rules.getTypeCase()));
          }
        }
      }
    }

    private static boolean unsigned(Validate.FieldRules.TypeCase t) {
      return t == Validate.FieldRules.TypeCase.UINT32 || t == Validate.FieldRules.TypeCase.UINT64
          || t == Validate.FieldRules.TypeCase.FIXED32 || t == Validate.FieldRules.TypeCase.FIXED64;
    }

    /** Wrapper messages (UInt32Value, StringValue...) carry their rules for the inner value. */
    private static Object unwrap(Object v) {
      if (v instanceof Message m && m.getDescriptorForType().getFile().getPackage().equals("google.protobuf")
          && m.getDescriptorForType().getName().endsWith("Value")) {
        FieldDescriptor value = m.getDescriptorForType().findFieldByName("value");
        return value == null ? v : m.getField(value);
      }
      return v;
    }

    private void numeric(Message r, Number value, String fp, boolean unsigned) {
      double x = unsigned && value instanceof Integer i ? Integer.toUnsignedLong(i)
          : unsigned && value instanceof Long l && l < 0 ? Double.parseDouble(Long.toUnsignedString(l)) : value.doubleValue();
      FieldDescriptor ignoreEmpty = r.getDescriptorForType().findFieldByName("ignore_empty");
      if (ignoreEmpty != null && (Boolean) r.getField(ignoreEmpty) && x == 0) {
        return;
      }
      Double gt = bound(r, "gt");
      Double gte = bound(r, "gte");
      Double lt = bound(r, "lt");
      Double lte = bound(r, "lte");
      Double cst = bound(r, "const");
      String shown = value instanceof Float || value instanceof Double ? String.valueOf(x) : String.valueOf((long) x);
      if (cst != null && x != cst) {
        fail(fp, shown + " (expected " + cst + ")");
      }
      // PGV: gt > lt means "outside the range"; here every rule Envoy uses is a plain bound.
      if (gt != null && !(x > gt)) {
        fail(fp, shown + " (expected > " + fmt(gt) + ")");
      }
      if (gte != null && !(x >= gte)) {
        fail(fp, shown + " (expected >= " + fmt(gte) + ")");
      }
      if (lt != null && !(x < lt)) {
        fail(fp, shown + " (expected < " + fmt(lt) + ")");
      }
      if (lte != null && !(x <= lte)) {
        fail(fp, shown + " (expected <= " + fmt(lte) + ")");
      }
      FieldDescriptor in = r.getDescriptorForType().findFieldByName("in");
      if (in != null && r.getRepeatedFieldCount(in) > 0) {
        boolean found = false;
        for (int i = 0; i < r.getRepeatedFieldCount(in); i++) {
          found |= ((Number) r.getRepeatedField(in, i)).doubleValue() == x;
        }
        if (!found) {
          fail(fp, shown + " (expected one of " + r.getField(in) + ")");
        }
      }
      FieldDescriptor notIn = r.getDescriptorForType().findFieldByName("not_in");
      if (notIn != null) {
        for (int i = 0; i < r.getRepeatedFieldCount(notIn); i++) {
          if (((Number) r.getRepeatedField(notIn, i)).doubleValue() == x) {
            fail(fp, shown + " is not allowed");
          }
        }
      }
    }

    private static String fmt(double d) {
      return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static Double bound(Message r, String name) {
      FieldDescriptor f = r.getDescriptorForType().findFieldByName(name);
      if (f == null || !r.hasField(f)) {
        return null;
      }
      Object v = r.getField(f);
      if (v instanceof Integer i && (f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32)) {
        return (double) Integer.toUnsignedLong(i);
      }
      return ((Number) v).doubleValue();
    }

    private void string(Validate.StringRules sr, String s, String fp) {
      if (sr.getIgnoreEmpty() && s.isEmpty()) {
        return;
      }
      int chars = s.codePointCount(0, s.length());
      int bytes = s.getBytes(StandardCharsets.UTF_8).length;
      if (sr.hasMinLen() && chars < sr.getMinLen()) {
        fail(fp, "'" + s + "' has " + chars + " characters (expected at least " + sr.getMinLen() + ")");
      }
      if (sr.hasMaxLen() && chars > sr.getMaxLen()) {
        fail(fp, chars + " characters (expected at most " + sr.getMaxLen() + ")");
      }
      if (sr.hasMinBytes() && bytes < sr.getMinBytes()) {
        fail(fp, "'" + s + "' has " + bytes + " bytes (expected at least " + sr.getMinBytes() + ")");
      }
      if (sr.hasMaxBytes() && bytes > sr.getMaxBytes()) {
        fail(fp, bytes + " bytes (expected at most " + sr.getMaxBytes() + ")");
      }
      if (sr.hasPrefix() && !s.startsWith(sr.getPrefix())) {
        fail(fp, "'" + s + "' (expected prefix '" + sr.getPrefix() + "')");
      }
      if (sr.hasSuffix() && !s.endsWith(sr.getSuffix())) {
        fail(fp, "'" + s + "' (expected suffix '" + sr.getSuffix() + "')");
      }
      if (sr.hasPattern() && !Pattern.compile(sr.getPattern()).matcher(s).find()) {
        fail(fp, "'" + s + "' does not match " + sr.getPattern());
      }
      if (sr.getInCount() > 0 && !sr.getInList().contains(s)) {
        fail(fp, "'" + s + "' (expected one of " + sr.getInList() + ")");
      }
      if (sr.getNotInList().contains(s)) {
        fail(fp, "'" + s + "' is not allowed");
      }
      if (sr.hasWellKnownRegex()) {
        boolean strict = !sr.hasStrict() || sr.getStrict();
        Pattern p = switch (sr.getWellKnownRegex()) {
          case HTTP_HEADER_NAME -> strict ? HEADER_NAME : LOOSE;
          case HTTP_HEADER_VALUE -> strict ? HEADER_VALUE : LOOSE;
          default -> null;
        };
        if (p != null && !p.matcher(s).matches()) {
          fail(fp, "'" + s + "' is not a valid " + sr.getWellKnownRegex());
        }
      }
    }

    private void duration(Validate.DurationRules dr, Duration d, String fp) {
      long n = Durations.toNanos(d);
      if (dr.hasConst() && n != Durations.toNanos(dr.getConst())) {
        fail(fp, Durations.toString(d) + " (expected " + Durations.toString(dr.getConst()) + ")");
      }
      if (dr.hasGt() && !(n > Durations.toNanos(dr.getGt()))) {
        fail(fp, Durations.toString(d) + " (expected > " + Durations.toString(dr.getGt()) + ")");
      }
      if (dr.hasGte() && !(n >= Durations.toNanos(dr.getGte()))) {
        fail(fp, Durations.toString(d) + " (expected >= " + Durations.toString(dr.getGte()) + ")");
      }
      if (dr.hasLt() && !(n < Durations.toNanos(dr.getLt()))) {
        fail(fp, Durations.toString(d) + " (expected < " + Durations.toString(dr.getLt()) + ")");
      }
      if (dr.hasLte() && !(n <= Durations.toNanos(dr.getLte()))) {
        fail(fp, Durations.toString(d) + " (expected <= " + Durations.toString(dr.getLte()) + ")");
      }
    }

    private static String join(String path, String name) {
      return path.isEmpty() ? name : path + "." + name;
    }
  }
}

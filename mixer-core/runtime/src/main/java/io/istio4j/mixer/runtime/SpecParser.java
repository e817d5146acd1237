package io.istio4j.mixer.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.istio4j.mixer.attribute.GoDuration;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a config object's {@code spec} into a protobuf message with proto3 JSON rules, as upstream
 * did: field names in lowerCamelCase or as in the .proto, durations as {@code "1s"}, enums by
 * name; an unknown field is an error that names it. Every error names the field path inside the
 * spec ({@code quotas[0].validDuration}), so an operator finds the line to fix.
 *
 * <pre>{@code
 * Message params = SpecParser.parse(Map.of("validDuration", "5s"), denier.defaultConfig());
 * }</pre>
 */
public final class SpecParser {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  /** proto3 JSON's duration form: seconds with up to nine fractional digits. */
  private static final Pattern PROTO_DURATION = Pattern.compile("-?[0-9]+(\\.[0-9]{1,9})?s");
  /** Well-known types whose JSON form is left to JsonFormat as it is. */
  private static final Set<String> OPAQUE = Set.of("google.protobuf.Struct", "google.protobuf.Value",
      "google.protobuf.ListValue", "google.protobuf.Any", "google.protobuf.FieldMask", "google.protobuf.Timestamp",
      "google.protobuf.Empty", "google.protobuf.BoolValue", "google.protobuf.BytesValue",
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int32Value",
      "google.protobuf.Int64Value", "google.protobuf.StringValue", "google.protobuf.UInt32Value",
      "google.protobuf.UInt64Value");

  private SpecParser() {}

  /**
   * Parses {@code spec} (maps, lists, strings, numbers and booleans, as YAML gives them) into a
   * message of {@code prototype}'s type. Fields the spec names replace the prototype's values (an
   * explicit {@code 0} too); the others keep the prototype's defaults.
   *
   * @throws SpecException naming the field path and the problem
   */
  public static Message parse(Map<String, ?> spec, Message prototype) throws SpecException {
    String json;
    try {
      json = JSON.writeValueAsString(message(spec, prototype.getDescriptorForType(), ""));
    } catch (JsonProcessingException e) {
      throw new SpecException("", "spec cannot be written as JSON: " + e.getOriginalMessage());
    }
    Message.Builder parsed = prototype.newBuilderForType();
    try {
      PARSER.merge(json, parsed);
    } catch (InvalidProtocolBufferException e) {
      throw new SpecException("", e.getMessage());
    } catch (RuntimeException e) {
      throw new SpecException("", "spec is not a valid " + prototype.getDescriptorForType().getFullName()
          + ": " + e.getMessage());
    }
    // The spec's values win; the prototype's defaults fill the fields the spec does not name.
    Set<String> named = spec.keySet().stream().map(String::valueOf).collect(Collectors.toSet());
    for (Map.Entry<FieldDescriptor, Object> e : prototype.getAllFields().entrySet()) {
      FieldDescriptor fd = e.getKey();
      if (!named.contains(fd.getName()) && !named.contains(fd.getJsonName())) {
        parsed.setField(fd, e.getValue());
      }
    }
    return parsed.build();
  }

  /** Parses a JSON object {@code spec} into a message of {@code prototype}'s type. */
  @SuppressWarnings("unchecked")
  public static Message parse(String json, Message prototype) throws SpecException {
    Map<String, Object> spec;
    try {
      spec = JSON.readValue(json, Map.class);
    } catch (JsonProcessingException e) {
      throw new SpecException("", "spec is not a JSON object: " + e.getOriginalMessage());
    }
    return parse(spec == null ? Map.of() : spec, prototype);
  }

  // ---- checking the spec against the message type, field by field ----
  //
  // JsonFormat names neither the field nor its position when a value does not fit, so the spec is
  // walked first: every field's value is checked against its type, and the first problem is
  // reported with its path. Durations written as Go and Kubernetes do (100ms, 1m30s) are rewritten
  // to proto3 JSON's seconds on the way.

  @SuppressWarnings("unchecked")
  private static Object message(Object value, Descriptor type, String path) throws SpecException {
    if (OPAQUE.contains(type.getFullName())) {
      return value; // a Struct (any map), a wrapper or the like: JsonFormat checks its JSON form
    }
    if (!(value instanceof Map)) {
      throw new SpecException(path, "invalid value " + shown(value) + " (expected: a map of " + type.getName()
          + " fields)");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, Object> e : ((Map<?, Object>) value).entrySet()) {
      String key = String.valueOf(e.getKey());
      String at = path.isEmpty() ? key : path + "." + key;
      FieldDescriptor fd = field(type, key);
      if (fd == null) {
        throw new SpecException(at, type.getFields().isEmpty() ? "unknown field (expected: no fields)"
            : "unknown field (expected one of: "
                + type.getFields().stream().map(FieldDescriptor::getJsonName).collect(Collectors.joining(", ")) + ")");
      }
      out.put(key, fieldValue(fd, e.getValue(), at));
    }
    return out;
  }

  private static FieldDescriptor field(Descriptor type, String key) {
    FieldDescriptor fd = type.findFieldByName(key);
    if (fd != null) {
      return fd;
    }
    for (FieldDescriptor f : type.getFields()) {
      if (f.getJsonName().equals(key)) {
        return f;
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private static Object fieldValue(FieldDescriptor fd, Object v, String path) throws SpecException {
    if (v == null) {
      return null; // proto3 JSON: null is the default value
    }
    if (fd.isMapField()) {
      if (!(v instanceof Map)) {
        throw new SpecException(path, "invalid value " + shown(v) + " (expected: a map)");
      }
      FieldDescriptor keyField = fd.getMessageType().findFieldByNumber(1);
      FieldDescriptor valueField = fd.getMessageType().findFieldByNumber(2);
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, Object> e : ((Map<?, Object>) v).entrySet()) {
        String key = String.valueOf(e.getKey());
        String at = path + "[" + key + "]";
        if (keyField.getJavaType() != FieldDescriptor.JavaType.STRING) {
          single(keyField, key, at);
        }
        out.put(key, e.getValue() == null ? null : single(valueField, e.getValue(), at));
      }
      return out;
    }
    if (fd.isRepeated()) {
      if (!(v instanceof List)) {
        throw new SpecException(path, "invalid value " + shown(v) + " (expected: a list)");
      }
      List<Object> out = new ArrayList<>();
      List<Object> list = (List<Object>) v;
      for (int i = 0; i < list.size(); i++) {
        out.add(list.get(i) == null ? null : single(fd, list.get(i), path + "[" + i + "]"));
      }
      return out;
    }
    return single(fd, v, path);
  }

  private static Object single(FieldDescriptor fd, Object v, String path) throws SpecException {
    switch (fd.getJavaType()) {
      case MESSAGE: {
        String name = fd.getMessageType().getFullName();
        if (name.equals("google.protobuf.Duration")) {
          return duration(v, path);
        }
        return message(v, fd.getMessageType(), path);
      }
      case ENUM: {
        if (v instanceof String s && fd.getEnumType().findValueByName(s) != null) {
          return v;
        }
        if (integral(v) != null && !(v instanceof String)) {
          return v;
        }
        throw new SpecException(path, "invalid value " + shown(v) + " (expected: one of "
            + fd.getEnumType().getValues().stream().map(EnumValueDescriptor::getName)
                .collect(Collectors.joining(", ")) + ")");
      }
      case BOOLEAN:
        if (v instanceof Boolean || "true".equals(v) || "false".equals(v)) {
          return v;
        }
        throw new SpecException(path, "invalid value " + shown(v) + " (expected: true or false)");
      case INT:
        return integer(fd, v, path, BigInteger.valueOf(Integer.MIN_VALUE), BigInteger.valueOf(Integer.MAX_VALUE));
      case LONG:
        return integer(fd, v, path, BigInteger.valueOf(Long.MIN_VALUE), BigInteger.valueOf(Long.MAX_VALUE));
      case FLOAT:
      case DOUBLE:
        if (v instanceof Number || (v instanceof String s && number(s))) {
          return v;
        }
        throw new SpecException(path, "invalid value " + shown(v) + " (expected: a number)");
      case BYTE_STRING:
        if (v instanceof String) {
          return v;
        }
        throw new SpecException(path, "invalid value " + shown(v) + " (expected: a base64 string)");
      default: // STRING
        if (v instanceof Map || v instanceof List) {
          throw new SpecException(path, "invalid value " + shown(v) + " (expected: a string)");
        }
        return v;
    }
  }

  private static Object integer(FieldDescriptor fd, Object v, String path, BigInteger min, BigInteger max)
      throws SpecException {
    boolean unsigned = switch (fd.getType()) {
      case UINT32, FIXED32, UINT64, FIXED64 -> true;
      default -> false;
    };
    if (unsigned) {
      min = BigInteger.ZERO;
      max = fd.getJavaType() == FieldDescriptor.JavaType.INT
          ? BigInteger.ONE.shiftLeft(32).subtract(BigInteger.ONE)
          : BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    }
    BigInteger n = integral(v);
    if (n == null || n.compareTo(min) < 0 || n.compareTo(max) > 0) {
      throw new SpecException(path, "invalid value " + shown(v) + " (expected: an integer from " + min + " to "
          + max + ")");
    }
    return v;
  }

  /** The integer {@code v} holds (a number without fraction, or such a string), or null. */
  private static BigInteger integral(Object v) {
    try {
      BigDecimal d;
      if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
        return BigInteger.valueOf(((Number) v).longValue());
      } else if (v instanceof BigInteger b) {
        return b;
      } else if (v instanceof Number n) {
        d = new BigDecimal(n.toString());
      } else if (v instanceof String s && s.length() <= 40) {
        d = new BigDecimal(s.trim());
      } else {
        return null;
      }
      return d.stripTrailingZeros().scale() <= 0 ? d.toBigIntegerExact() : null;
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
  }

  private static boolean number(String s) {
    if (s.equals("NaN") || s.equals("Infinity") || s.equals("-Infinity")) {
      return true;
    }
    try {
      Double.parseDouble(s);
      return s.length() <= 400;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static Object duration(Object v, String path) throws SpecException {
    if (v instanceof String text && !text.isEmpty()) {
      if (PROTO_DURATION.matcher(text).matches()) {
        return text;
      }
      try {
        Duration d = GoDuration.parse(text);
        Duration abs = d.abs();
        return (d.isNegative() ? "-" : "") + abs.getSeconds() + "." + String.format("%09d", abs.getNano()) + "s";
      } catch (RuntimeException notGo) {
        // reported below
      }
    }
    throw new SpecException(path, "invalid duration " + shown(v) + " (expected: like 10s, 1.5s or 1m30s)");
  }

  /** A value for a message: quoted, and cut short so a huge value cannot flood the log. */
  private static String shown(Object v) {
    String s = v instanceof Map ? "a map" : v instanceof List ? "a list" : "'" + v + "'";
    return s.length() > 80 ? s.substring(0, 77) + "...'" : s;
  }

  /** A spec that does not fit its message: the field path inside the spec and the problem. */
  public static final class SpecException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String field;
    private final String problem;

    SpecException(String field, String problem) {
      super(field.isEmpty() ? problem : field + ": " + problem);
      this.field = field;
      this.problem = problem;
    }

    /** The path of the field inside the spec, such as {@code quotas[0].validDuration}; "" for the spec as a whole. */
    public String field() {
      return field;
    }

    /** What is wrong and what was expected. */
    public String problem() {
      return problem;
    }
  }
}

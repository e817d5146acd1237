package io.istio4j.pilot.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Turns a spec's JSON tree into its proto message. The tree is first checked against the message's
 * descriptor, so that every problem is reported with its field path ({@code
 * spec.route[0].weight}: protobuf's own JSON parser names neither the path nor all problems);
 * durations in Go's form ({@code 15m}, as Istio 0.2 accepted) are rewritten to proto JSON's; then
 * protobuf-java-util's {@link JsonFormat} parser, which accepts both the JSON (camelCase) and the
 * proto (snake_case) field names, builds the message.
 */
final class SpecReader {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private SpecReader() {}

  /**
   * Reads {@code spec} (an object node, or null for an absent spec) as a {@code prototype}.
   *
   * @param path the path of {@code spec} in its document, e.g. {@code spec}
   * @param errors where problems go; when any is added the result is null
   */
  static Message read(Message prototype, JsonNode spec, String path, List<FieldError> errors) {
    if (spec == null || spec.isNull() || spec.isMissingNode()) {
      return prototype.getDefaultInstanceForType();
    }
    JsonNode copy = spec.deepCopy();
    int before = errors.size();
    copy = check(copy, prototype.getDescriptorForType(), path, errors);
    if (errors.size() > before) {
      return null;
    }
    Message.Builder builder = prototype.newBuilderForType();
    try {
      PARSER.merge(JSON.writeValueAsString(copy), builder);
    } catch (InvalidProtocolBufferException | RuntimeException | JsonProcessingException e) {
      errors.add(new FieldError(path, "cannot be read as " + prototype.getDescriptorForType().getName() + ": "
          + e.getMessage()));
      return null;
    }
    return builder.build();
  }

  /** Checks a node meant to be a message; returns it (perhaps rewritten). */
  private static JsonNode check(JsonNode node, Descriptor type, String path, List<FieldError> errors) {
    if (type.getFullName().equals(Duration.getDescriptor().getFullName())) {
      return duration(node, path, errors);
    }
    if (type.getFullName().equals("google.protobuf.Any")) {
      errors.add(new FieldError(path, "custom (google.protobuf.Any) policies are not supported"));
      return node;
    }
    if (!node.isObject()) {
      errors.add(new FieldError(path, "expected an object (" + type.getName() + "), got " + describe(node)));
      return node;
    }
    ObjectNode object = (ObjectNode) node;
    Map<FieldDescriptor, String> seen = new HashMap<>();
    Map<OneofDescriptor, String> oneofs = new HashMap<>();
    List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
    entries.addAll(object.properties());
    for (Map.Entry<String, JsonNode> e : entries) {
      String key = e.getKey();
      String at = path.isEmpty() ? key : path + "." + key;
      FieldDescriptor field = field(type, key);
      if (field == null) {
        errors.add(new FieldError(at, "unknown field (" + type.getName() + " has: " + fieldNames(type) + ")"));
        continue;
      }
      String other = seen.put(field, key);
      if (other != null) {
        errors.add(new FieldError(at, "set twice (as " + other + " and " + key + ")"));
        continue;
      }
      JsonNode value = e.getValue();
      if (value.isNull()) {
        continue; // protobuf's JSON parser treats null as "not set"
      }
      OneofDescriptor oneof = field.getRealContainingOneof();
      if (oneof != null) {
        String first = oneofs.put(oneof, key);
        if (first != null) {
          errors.add(new FieldError(at, "only one of " + oneofNames(oneof) + " may be set (" + first + " is set too)"));
          continue;
        }
      }
      JsonNode checked = value(field, value, at, errors);
      if (checked != value) {
        object.set(key, checked);
      }
    }
    return object;
  }

  private static JsonNode value(FieldDescriptor field, JsonNode value, String path, List<FieldError> errors) {
    if (field.isMapField()) {
      if (!value.isObject()) {
        errors.add(new FieldError(path, "expected a map, got " + describe(value)));
        return value;
      }
      FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
      ObjectNode map = (ObjectNode) value;
      List<String> keys = new ArrayList<>();
      for (Map.Entry<String, JsonNode> e : map.properties()) {
        keys.add(e.getKey());
      }
      for (String key : keys) {
        JsonNode v = map.get(key);
        JsonNode checked = single(valueField, v, path + "[" + key + "]", errors);
        if (checked != v) {
          map.set(key, checked);
        }
      }
      return value;
    }
    if (field.isRepeated()) {
      if (!value.isArray()) {
        errors.add(new FieldError(path, "expected a list, got " + describe(value)));
        return value;
      }
      for (int i = 0; i < value.size(); i++) {
        JsonNode v = value.get(i);
        JsonNode checked = single(field, v, path + "[" + i + "]", errors);
        if (checked != v) {
          ((ArrayNode) value).set(i, checked);
        }
      }
      return value;
    }
    return single(field, value, path, errors);
  }

  private static JsonNode single(FieldDescriptor field, JsonNode value, String path, List<FieldError> errors) {
    switch (field.getJavaType()) {
      case MESSAGE:
        return check(value, field.getMessageType(), path, errors);
      case STRING:
        if (!value.isTextual()) {
          errors.add(new FieldError(path, "expected a string, got " + describe(value)
              + (value.isValueNode() ? " (quote it)" : "")));
        }
        return value;
      case BOOLEAN:
        if (!value.isBoolean()) {
          errors.add(new FieldError(path, "expected true or false, got " + describe(value)));
        }
        return value;
      case INT:
      case LONG:
        integer(field, value, path, errors);
        return value;
      case FLOAT:
      case DOUBLE:
        if (!value.isNumber() && !(value.isTextual() && isDecimal(value.asText()))) {
          errors.add(new FieldError(path, "expected a number, got " + describe(value)));
        }
        return value;
      case ENUM:
        if (value.isTextual()) {
          if (field.getEnumType().findValueByName(value.asText()) == null) {
            errors.add(new FieldError(path, "'" + value.asText() + "' is not one of " + enumNames(field)));
          }
        } else if (!value.isIntegralNumber() || field.getEnumType().findValueByNumber(value.asInt()) == null) {
          errors.add(new FieldError(path, "expected one of " + enumNames(field) + ", got " + describe(value)));
        }
        return value;
      default:
        if (!value.isTextual()) {
          errors.add(new FieldError(path, "expected a string, got " + describe(value)));
        }
        return value;
    }
  }

  private static void integer(FieldDescriptor field, JsonNode value, String path, List<FieldError> errors) {
    BigDecimal n;
    if (value.isNumber()) {
      n = value.decimalValue();
    } else if (value.isTextual() && isDecimal(value.asText())) {
      n = new BigDecimal(value.asText().strip());
    } else {
      errors.add(new FieldError(path, "expected an integer, got " + describe(value)));
      return;
    }
    boolean is32 = field.getJavaType() == FieldDescriptor.JavaType.INT;
    BigDecimal min = BigDecimal.valueOf(is32 ? Integer.MIN_VALUE : Long.MIN_VALUE);
    BigDecimal max = BigDecimal.valueOf(is32 ? Integer.MAX_VALUE : Long.MAX_VALUE);
    if (n.stripTrailingZeros().scale() > 0) {
      errors.add(new FieldError(path, "expected an integer, got " + describe(value)));
    } else if (n.compareTo(min) < 0 || n.compareTo(max) > 0) {
      errors.add(new FieldError(path, describe(value) + " is out of range for a " + (is32 ? "32" : "64") + "-bit integer"));
    }
  }

  private static boolean isDecimal(String s) {
    try {
      new BigDecimal(s.strip());
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static JsonNode duration(JsonNode node, String path, List<FieldError> errors) {
    if (!node.isTextual()) {
      errors.add(new FieldError(path, "expected a duration such as 1.5s or 100ms, got " + describe(node)));
      return node;
    }
    try {
      Duration d = GoDurations.parse(node.asText());
      return TextNode.valueOf(Durations.toString(d));
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError(path, e.getMessage()));
      return node;
    }
  }

  /** The field a key names: its JSON (camelCase) name or its proto (snake_case) name. */
  private static FieldDescriptor field(Descriptor type, String key) {
    FieldDescriptor f = type.findFieldByName(key);
    if (f != null) {
      return f;
    }
    for (FieldDescriptor candidate : type.getFields()) {
      if (candidate.getJsonName().equals(key)) {
        return candidate;
      }
    }
    return null;
  }

  private static String fieldNames(Descriptor type) {
    StringJoiner j = new StringJoiner(", ");
    for (FieldDescriptor f : type.getFields()) {
      j.add(f.getJsonName());
    }
    return j.toString();
  }

  private static String oneofNames(OneofDescriptor oneof) {
    StringJoiner j = new StringJoiner(", ");
    for (FieldDescriptor f : oneof.getFields()) {
      j.add(f.getJsonName());
    }
    return j.toString();
  }

  private static String enumNames(FieldDescriptor field) {
    StringJoiner j = new StringJoiner(", ");
    for (EnumValueDescriptor v : field.getEnumType().getValues()) {
      j.add(v.getName());
    }
    return j.toString();
  }

  /** A node for a message: its type and a short form of its value. */
  static String describe(JsonNode node) {
    if (node.isObject()) {
      return "an object";
    }
    if (node.isArray()) {
      return "a list";
    }
    if (node.isTextual()) {
      String t = node.asText();
      return "'" + (t.length() > 60 ? t.substring(0, 60) + "..." : t) + "'";
    }
    if (node.isNull()) {
      return "null";
    }
    String t = node.toString();
    return t.length() > 60 ? t.substring(0, 60) + "..." : t;
  }
}

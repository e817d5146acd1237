package io.istio4j.mixer.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.Map;
import java.util.Set;

/**
 * Reads a config object's {@code spec} into a protobuf message with proto3 JSON rules, as upstream
 * did: field names in lowerCamelCase or as in the .proto, durations as {@code "1s"}, enums by
 * name; an unknown field is an error that names it.
 *
 * <pre>{@code
 * Message params = SpecParser.parse(Map.of("validDuration", "5s"), denier.defaultConfig());
 * }</pre>
 */
public final class SpecParser {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private SpecParser() {}

  /**
   * Parses {@code spec} (maps, lists, strings, numbers and booleans, as YAML gives them) into a
   * message of {@code prototype}'s type. Fields the spec names replace the prototype's values (an
   * explicit {@code 0} too); the others keep the prototype's defaults.
   *
   * @throws SpecException naming the problem
   */
  public static Message parse(Map<String, ?> spec, Message prototype) throws SpecException {
    String json;
    try {
      json = JSON.writeValueAsString(goDurations(spec, prototype.getDescriptorForType()));
    } catch (JsonProcessingException e) {
      throw new SpecException("spec cannot be written as JSON: " + e.getOriginalMessage());
    }
    Message.Builder parsed = prototype.newBuilderForType();
    try {
      PARSER.merge(json, parsed);
    } catch (InvalidProtocolBufferException e) {
      throw new SpecException(e.getMessage());
    } catch (RuntimeException e) {
      throw new SpecException("spec is not a valid " + prototype.getDescriptorForType().getFullName()
          + ": " + e.getMessage());
    }
    // The spec's values win; the prototype's defaults fill the fields the spec does not name.
    Set<String> named = spec.keySet().stream().map(String::valueOf).collect(java.util.stream.Collectors.toSet());
    for (Map.Entry<FieldDescriptor, Object> e : prototype.getAllFields().entrySet()) {
      FieldDescriptor fd = e.getKey();
      if (!named.contains(fd.getName()) && !named.contains(fd.getJsonName())) {
        parsed.setField(fd, e.getValue());
      }
    }
    Message.Builder result = parsed;
    return result.build();
  }

  /** Parses a JSON object {@code spec} into a message of {@code prototype}'s type. */
  @SuppressWarnings("unchecked")
  public static Message parse(String json, Message prototype) throws SpecException {
    Map<String, Object> spec;
    try {
      spec = JSON.readValue(json, Map.class);
    } catch (JsonProcessingException e) {
      throw new SpecException("spec is not a JSON object: " + e.getOriginalMessage());
    }
    return parse(spec == null ? Map.of() : spec, prototype);
  }

  /**
   * Durations may also be written as Go and Kubernetes do ({@code 100ms}, {@code 1m30s}), not only
   * as proto3 JSON's seconds ({@code 0.1s}): such strings in Duration fields are rewritten to
   * seconds before parsing.
   */
  @SuppressWarnings("unchecked")
  private static Object goDurations(Object value, com.google.protobuf.Descriptors.Descriptor type) {
    if (!(value instanceof Map)) {
      return value;
    }
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Object> e : ((Map<String, Object>) value).entrySet()) {
      FieldDescriptor fd = type.findFieldByName(e.getKey());
      if (fd == null) {
        for (FieldDescriptor f : type.getFields()) {
          if (f.getJsonName().equals(e.getKey())) {
            fd = f;
          }
        }
      }
      Object v = e.getValue();
      if (fd != null && fd.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        com.google.protobuf.Descriptors.Descriptor mt = fd.getMessageType();
        if (mt.getFullName().equals("google.protobuf.Duration")) {
          v = v instanceof java.util.List<?> list && fd.isRepeated()
              ? list.stream().map(SpecParser::seconds).toList() : seconds(v);
        } else if (fd.isMapField() && v instanceof Map) {
          FieldDescriptor valueField = mt.findFieldByNumber(2);
          if (valueField.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            ((Map<String, Object>) v).forEach((k, mv) -> m.put(k, goDurations(mv, valueField.getMessageType())));
            v = m;
          }
        } else if (v instanceof java.util.List<?> list) {
          v = list.stream().map(item -> goDurations(item, mt)).toList();
        } else {
          v = goDurations(v, mt);
        }
      }
      out.put(e.getKey(), v);
    }
    return out;
  }

  private static Object seconds(Object v) {
    if (!(v instanceof String text) || text.isEmpty()) {
      return v;
    }
    try {
      java.time.Duration d = io.istio4j.mixer.attribute.GoDuration.parse(text);
      java.time.Duration abs = d.abs();
      return (d.isNegative() ? "-" : "") + abs.getSeconds() + "." + String.format("%09d", abs.getNano()) + "s";
    } catch (RuntimeException notGo) {
      return v; // left for the JSON parser, which names the problem
    }
  }

  /** A spec that does not fit its message. */
  public static final class SpecException extends Exception {
    private static final long serialVersionUID = 1L;

    SpecException(String message) {
      super(message);
    }
  }
}

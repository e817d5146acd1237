package io.istio4j.mixer.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.attribute.GoDuration;
import io.istio4j.mixer.attribute.MutableAttributeBag;
import io.istio4j.mixer.expr.EvaluationException;
import io.istio4j.mixer.expr.Expression;
import io.istio4j.mixer.expr.ExpressionCompiler;
import io.istio4j.mixer.expr.ExpressionException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON Lines evaluator behind {@code mixc expr}: one input object
 * {@code {"expression": ..., "manifest": {name: TYPE}, "attributes": {name: value}}} gives one
 * output object, {@code {"type": T, "value": V}} or {@code {"error": text, "phase": P}} with phase
 * {@code compile}, {@code eval}, or {@code input} for a line that is not such an object.
 */
final class ExpressionLines {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ExpressionLines() {}

  /** Evaluates one input line; never throws. */
  static String evaluate(String line) {
    return write(evaluateToNode(line));
  }

  static ObjectNode evaluateToNode(String line) {
    JsonNode in;
    try {
      in = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      return error("not JSON: " + e.getOriginalMessage(), "input");
    }
    if (in == null || !in.isObject() || !in.path("expression").isTextual()) {
      return error("expected an object with a string \"expression\"", "input");
    }
    Map<String, ValueType> manifest = new LinkedHashMap<>();
    MutableAttributeBag bag = new MutableAttributeBag();
    try {
      for (Iterator<Map.Entry<String, JsonNode>> it = in.path("manifest").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        manifest.put(e.getKey(), valueType(e.getValue().asText()));
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = in.path("attributes").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        ValueType declared = manifest.get(e.getKey());
        bag.set(e.getKey(), value(e.getKey(), declared, e.getValue()));
      }
    } catch (IllegalArgumentException e) {
      return error(e.getMessage(), "input");
    }
    Expression expression;
    try {
      expression = ExpressionCompiler.of(manifest).compile(in.get("expression").asText());
    } catch (ExpressionException e) {
      return error(e.getMessage(), "compile");
    }
    Object result;
    try {
      result = expression.evaluate(bag);
    } catch (EvaluationException e) {
      return error(e.getMessage(), "eval");
    }
    ObjectNode out = NODES.objectNode();
    out.put("type", expression.type().name());
    out.set("value", encode(expression.type(), result));
    return out;
  }

  private static ValueType valueType(String name) {
    try {
      ValueType t = ValueType.valueOf(name);
      if (t != ValueType.VALUE_TYPE_UNSPECIFIED) {
        return t;
      }
    } catch (IllegalArgumentException e) {
      // below
    }
    throw new IllegalArgumentException("manifest: unknown value type " + name
        + " (expected one of STRING, INT64, DOUBLE, BOOL, TIMESTAMP, IP_ADDRESS, EMAIL_ADDRESS, URI, DNS_NAME, DURATION, STRING_MAP)");
  }

  /** Decodes an attribute by its declared type, or by its JSON type when undeclared. */
  private static Object value(String name, ValueType declared, JsonNode v) {
    ValueType t = declared != null ? declared : inferred(v);
    try {
      switch (t) {
        case STRING, EMAIL_ADDRESS, URI, DNS_NAME -> {
          return text(v);
        }
        case INT64 -> {
          if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new IllegalArgumentException("not an integer");
          }
          return v.asLong();
        }
        case DOUBLE -> {
          if (!v.isNumber()) {
            throw new IllegalArgumentException("not a number");
          }
          return v.asDouble();
        }
        case BOOL -> {
          if (!v.isBoolean()) {
            throw new IllegalArgumentException("not a boolean");
          }
          return v.asBoolean();
        }
        case TIMESTAMP -> {
          return OffsetDateTime.parse(text(v)).toInstant();
        }
        case DURATION -> {
          return GoDuration.parse(text(v));
        }
        case IP_ADDRESS -> {
          byte[] ip = GoValues.parseIp(text(v));
          if (ip == null) {
            throw new IllegalArgumentException("not an IP address");
          }
          return ip;
        }
        default -> {
          if (!v.isObject()) {
            throw new IllegalArgumentException("not an object of strings");
          }
          Map<String, String> m = new LinkedHashMap<>();
          for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            m.put(e.getKey(), text(e.getValue()));
          }
          return m;
        }
      }
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("attribute " + name + ": " + v + " is not a valid " + t
          + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"));
    }
  }

  private static ValueType inferred(JsonNode v) {
    if (v.isIntegralNumber()) {
      return ValueType.INT64;
    }
    if (v.isNumber()) {
      return ValueType.DOUBLE;
    }
    if (v.isBoolean()) {
      return ValueType.BOOL;
    }
    if (v.isObject()) {
      return ValueType.STRING_MAP;
    }
    return ValueType.STRING;
  }

  private static String text(JsonNode v) {
    if (!v.isTextual()) {
      throw new IllegalArgumentException("not a string");
    }
    return v.asText();
  }

  @SuppressWarnings("unchecked")
  static JsonNode encode(ValueType type, Object v) {
    return switch (type) {
      case INT64 -> NODES.numberNode((Long) v);
      case DOUBLE -> NODES.numberNode((Double) v);
      case BOOL -> NODES.booleanNode((Boolean) v);
      case TIMESTAMP -> NODES.textNode(v.toString());
      case DURATION -> NODES.textNode(GoDuration.format((Duration) v));
      case IP_ADDRESS -> NODES.textNode(GoValues.ip((byte[]) v));
      case STRING_MAP -> {
        ObjectNode o = NODES.objectNode();
        ((Map<String, String>) v).forEach(o::put);
        yield o;
      }
      default -> NODES.textNode(v instanceof Instant ? v.toString() : String.valueOf(v));
    };
  }

  private static ObjectNode error(String message, String phase) {
    ObjectNode o = NODES.objectNode();
    o.put("error", message);
    o.put("phase", phase);
    return o;
  }

  private static String write(JsonNode n) {
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      return "{\"error\":\"cannot write result\",\"phase\":\"eval\"}";
    }
  }
}

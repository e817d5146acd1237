package io.istio4j.mixer.client;

import io.istio4j.mixer.attribute.GoDuration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The attribute flags of {@code mixc check|report|load}, as upstream's mixc spells them. Each takes
 * a comma-separated list and may be repeated.
 */
final class AttributeFlags {

  @Option(names = {"-s", "--string_attributes"}, description = "name=value,... STRING attributes.")
  List<String> strings = new ArrayList<>();

  @Option(names = {"-i", "--int64_attributes"}, description = "name=value,... INT64 attributes.")
  List<String> int64s = new ArrayList<>();

  @Option(names = {"-d", "--double_attributes"}, description = "name=value,... DOUBLE attributes.")
  List<String> doubles = new ArrayList<>();

  @Option(names = {"-b", "--bool_attributes"}, description = "name=value,... BOOL attributes.")
  List<String> bools = new ArrayList<>();

  @Option(names = {"-t", "--timestamp_attributes"},
      description = "name=value,... TIMESTAMP attributes (RFC 3339).")
  List<String> timestamps = new ArrayList<>();

  @Option(names = "--duration_attributes", description = "name=value,... DURATION attributes (10s, 1.5ms).")
  List<String> durations = new ArrayList<>();

  @Option(names = "--bytes_attributes",
      description = "name=value,... bytes attributes, hex bytes separated by ':' (c0:0:0:2).")
  List<String> bytes = new ArrayList<>();

  @Option(names = "--stringmap_attributes",
      description = "name=k1:v1;k2:v2,... STRING_MAP attributes.")
  List<String> stringMaps = new ArrayList<>();

  @Option(names = {"-a", "--attributes"},
      description = "name=value,... attributes typed by their value: int, double, bool, timestamp, duration, else string.")
  List<String> auto = new ArrayList<>();

  /** All attributes given, by name; throws IllegalArgumentException naming a bad flag value. */
  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    parse(m, auto, "--attributes", AttributeFlags::auto);
    parse(m, strings, "--string_attributes", v -> v);
    parse(m, int64s, "--int64_attributes", Long::parseLong);
    parse(m, doubles, "--double_attributes", Double::parseDouble);
    parse(m, bools, "--bool_attributes", AttributeFlags::bool);
    parse(m, timestamps, "--timestamp_attributes", Instant::parse);
    parse(m, durations, "--duration_attributes", GoDuration::parse);
    parse(m, bytes, "--bytes_attributes", AttributeFlags::hexBytes);
    parse(m, stringMaps, "--stringmap_attributes", AttributeFlags::stringMap);
    return m;
  }

  private interface Parser {
    Object parse(String value);
  }

  private static void parse(Map<String, Object> m, List<String> lists, String flag, Parser parser) {
    for (String list : lists) {
      parse(m, list, flag, parser);
    }
  }

  private static void parse(Map<String, Object> m, String list, String flag, Parser parser) {
    if (list == null || list.isEmpty()) {
      return;
    }
    for (String item : list.split(",")) {
      int eq = item.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(flag + ": " + item + " (expected: name=value)");
      }
      String name = item.substring(0, eq);
      String value = item.substring(eq + 1);
      try {
        m.put(name, parser.parse(value));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(flag + ": " + item + ": " + e.getMessage());
      }
    }
  }

  private static Boolean bool(String v) {
    if (v.equalsIgnoreCase("true")) {
      return true;
    }
    if (v.equalsIgnoreCase("false")) {
      return false;
    }
    throw new IllegalArgumentException("not a bool (expected: true or false)");
  }

  private static byte[] hexBytes(String v) {
    String[] parts = v.split(":");
    byte[] b = new byte[parts.length];
    for (int i = 0; i < parts.length; i++) {
      int x = Integer.parseInt(parts[i], 16);
      if (x < 0 || x > 255) {
        throw new IllegalArgumentException("byte " + parts[i] + " out of range");
      }
      b[i] = (byte) x;
    }
    return b;
  }

  private static Map<String, String> stringMap(String v) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String entry : v.split(";")) {
      if (entry.isEmpty()) {
        continue;
      }
      int colon = entry.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("map entry " + entry + " (expected: key:value)");
      }
      m.put(entry.substring(0, colon), entry.substring(colon + 1));
    }
    return m;
  }

  static Object auto(String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException ignored) {
      // not an integer
    }
    try {
      if (v.matches("[-+]?(\\d+\\.\\d*|\\.\\d+|\\d+)([eE][-+]?\\d+)?")) {
        return Double.parseDouble(v);
      }
    } catch (NumberFormatException ignored) {
      // not a double
    }
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException ignored) {
      // not a timestamp
    }
    try {
      return GoDuration.parse(v);
    } catch (IllegalArgumentException ignored) {
      // not a duration
    }
    return v;
  }
}

package io.istio4j.pilot.injector;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The text that says what a sidecar is: YAML with the lists {@code initContainers}, {@code
 * containers} and {@code volumes}, each item appended to the pod's own. {@code {{ name }}} is
 * replaced by a value from {@link #NAMES} (strings JSON-escaped, so a value can never end a quoted
 * string and add fields of its own); {@code {{ if name }}...{{ end }}} keeps its text only when the
 * value is set. Unknown names, an {@code if} without {@code end} and a result that is not such
 * YAML are refused when the template is loaded, not when a pod is created.
 *
 * <pre>{@code
 * SidecarTemplate t = SidecarTemplate.load(Path.of("sidecar-template.yaml"));
 * Sidecar s = t.render(values);
 * }</pre>
 */
public final class SidecarTemplate {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  /** The lists a template may add to; anything else in it is a mistake. */
  static final List<String> LISTS = List.of("initContainers", "containers", "volumes");

  /** The names a template may use; {@link SidecarInjector} supplies every one. */
  public static final Set<String> NAMES = Set.of(
      "initImage", "proxyImage", "imagePullPolicy", "verbosity", "sidecarProxyUID", "version",
      "includeIPRanges", "debugMode", "readOnlyRootFilesystem", "enableCoreDump",
      "proxyListenPort", "configPath", "binaryPath", "serviceCluster", "drainDuration",
      "parentShutdownDuration", "discoveryAddress", "discoveryRefreshDelay", "zipkinAddress",
      "connectTimeout", "statsdUdpAddress", "proxyAdminPort", "mixerAddress", "authPolicy",
      "serviceAccount", "certSecretName", "namespace");

  /** What a rendered template adds to a pod. */
  public record Sidecar(List<ObjectNode> initContainers, List<ObjectNode> containers, List<ObjectNode> volumes) {
    public Sidecar {
      initContainers = List.copyOf(initContainers);
      containers = List.copyOf(containers);
      volumes = List.copyOf(volumes);
    }
  }

  /** One piece of the template: text, a value, or the start or end of a conditional section. */
  private record Part(Kind kind, String text) {}

  private enum Kind { TEXT, VALUE, IF, END }

  private final String source;
  private final List<Part> parts;

  private SidecarTemplate(String source, List<Part> parts) {
    this.source = source;
    this.parts = parts;
  }

  /** The template shipped with the injector: upstream 0.2's sidecar. */
  public static SidecarTemplate defaultTemplate() {
    try (InputStream in = SidecarTemplate.class.getResourceAsStream("sidecar-template.yaml")) {
      if (in == null) {
        throw new IllegalStateException("sidecar-template.yaml is missing from the injector's jar");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "the default template");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The template in {@code file}.
   *
   * @throws IllegalArgumentException naming the file, the line and the problem
   */
  public static SidecarTemplate load(Path file) {
    requireNonNull(file, "file");
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--template " + file + ": no such file", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("--template " + file + ": cannot read it: " + e.getMessage(), e);
    }
    return parse(text, "--template " + file);
  }

  /**
   * The template in {@code text}; {@code where} names it in errors. The template is rendered once
   * with sample values, so a template that cannot produce a sidecar is refused here.
   */
  public static SidecarTemplate parse(String text, String where) {
    requireNonNull(text, "text");
    List<Part> parts = new ArrayList<>();
    int at = 0;
    boolean inIf = false;
    while (true) {
      int open = text.indexOf("{{", at);
      if (open < 0) {
        parts.add(new Part(Kind.TEXT, text.substring(at)));
        break;
      }
      parts.add(new Part(Kind.TEXT, text.substring(at, open)));
      int close = text.indexOf("}}", open + 2);
      if (close < 0) {
        throw new IllegalArgumentException(where + ": line " + line(text, open) + ": '{{' without '}}'");
      }
      String tag = text.substring(open + 2, close).strip();
      String[] words = tag.split("\\s+", -1);
      if (words.length == 2 && words[0].equals("if")) {
        if (inIf) {
          throw new IllegalArgumentException(where + ": line " + line(text, open)
              + ": '{{ if }}' inside another '{{ if }}' (expected: sections are not nested)");
        }
        inIf = true;
        parts.add(new Part(Kind.IF, known(words[1], where, text, open)));
      } else if (tag.equals("end")) {
        if (!inIf) {
          throw new IllegalArgumentException(where + ": line " + line(text, open) + ": '{{ end }}' without '{{ if }}'");
        }
        inIf = false;
        parts.add(new Part(Kind.END, ""));
      } else if (words.length == 1) {
        parts.add(new Part(Kind.VALUE, known(tag, where, text, open)));
      } else {
        throw new IllegalArgumentException(where + ": line " + line(text, open) + ": '{{ " + tag
            + " }}' (expected: {{ name }}, {{ if name }} or {{ end }})");
      }
      at = close + 2;
    }
    if (inIf) {
      throw new IllegalArgumentException(where + ": '{{ if }}' without '{{ end }}'");
    }
    SidecarTemplate t = new SidecarTemplate(text, List.copyOf(parts));
    String sample = t.text(SidecarInjector.sampleValues());
    try {
      KubeInject.refuseAliases(sample);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
    parseRendered(sample, where);
    return t;
  }

  private static String known(String name, String where, String text, int at) {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException(where + ": line " + line(text, at) + ": unknown value '" + name
          + "' (expected one of: " + String.join(", ", NAMES.stream().sorted().toList()) + ")");
    }
    return name;
  }

  private static int line(String text, int offset) {
    int n = 1;
    for (int i = 0; i < offset; i++) {
      if (text.charAt(i) == '\n') {
        n++;
      }
    }
    return n;
  }

  /** The template's text, as loaded. */
  public String source() {
    return source;
  }

  /**
   * The sidecar for these values.
   *
   * @throws IllegalArgumentException when a value is missing or the result is not a sidecar
   */
  public Sidecar render(Map<String, Object> values) {
    return render(values, "the sidecar template");
  }

  private Sidecar render(Map<String, Object> values, String where) {
    return parseRendered(text(values), where);
  }

  /** The template's text with these values. */
  private String text(Map<String, Object> values) {
    StringBuilder out = new StringBuilder(source.length() + 512);
    boolean skipping = false;
    for (Part p : parts) {
      switch (p.kind()) {
        case TEXT -> {
          if (!skipping) {
            out.append(p.text());
          }
        }
        case VALUE -> {
          if (!skipping) {
            out.append(escape(value(values, p.text())));
          }
        }
        case IF -> skipping = !isSet(value(values, p.text()));
        case END -> skipping = false;
        default -> throw new AssertionError(p.kind());
      }
    }
    return out.toString();
  }

  private static Sidecar parseRendered(String text, String where) {
    JsonNode tree;
    try {
      tree = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(where + ": the rendered text is not YAML: " + e.getOriginalMessage(), e);
    }
    if (tree == null || !tree.isObject()) {
      throw new IllegalArgumentException(where + ": expected a mapping with " + LISTS + ", found "
          + (tree == null ? "nothing" : tree.getNodeType().name().toLowerCase(Locale.ROOT)));
    }
    for (String key : (Iterable<String>) tree::fieldNames) {
      if (!LISTS.contains(key)) {
        throw new IllegalArgumentException(where + ": unknown key '" + key + "' (expected: " + LISTS + ")");
      }
    }
    return new Sidecar(items(tree, "initContainers", where), items(tree, "containers", where),
        items(tree, "volumes", where));
  }

  private static List<ObjectNode> items(JsonNode tree, String key, String where) {
    JsonNode list = tree.get(key);
    if (list == null || list.isNull()) {
      return List.of();
    }
    if (!(list instanceof ArrayNode array)) {
      throw new IllegalArgumentException(where + ": " + key + ": expected a list, found "
          + list.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    List<ObjectNode> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (!(array.get(i) instanceof ObjectNode item) || !item.path("name").isTextual()
          || item.path("name").asText().isEmpty()) {
        throw new IllegalArgumentException(where + ": " + key + "[" + i + "]: expected a mapping with a name");
      }
      out.add(item);
    }
    return out;
  }

  private static Object value(Map<String, Object> values, String name) {
    Object v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("sidecar template value '" + name + "' is not set");
    }
    return v;
  }

  private static boolean isSet(Object v) {
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof Number n) {
      return n.longValue() != 0;
    }
    return !v.toString().isEmpty();
  }

  /** A value as template text: strings escaped as inside a JSON (and YAML) double-quoted string. */
  private static String escape(Object v) {
    if (v instanceof Boolean || v instanceof Number) {
      return v.toString();
    }
    String s = v.toString();
    StringBuilder b = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}

package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.MarkedYAMLException;
import com.google.protobuf.Message;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.TlsSecret;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads Kubernetes-shaped config objects from YAML or JSON text:
 *
 * <pre>{@code
 * apiVersion: config.istio.io/v1alpha2
 * kind: RouteRule
 * metadata: {name: reviews-default, namespace: default}
 * spec: {destination: {name: reviews}, route: [{labels: {version: v1}}]}
 * }</pre>
 *
 * <p>A file holds any number of {@code ---}-separated documents and {@code kind: List} objects
 * (as {@code kubectl get -o yaml} prints them). Documents of other kinds (Services, Deployments,
 * Mixer's config) are {@link ConfigDocument.Status#IGNORED}, so a directory may mix them. Spec
 * fields may use JSON (camelCase) or proto (snake_case) names; unknown fields are errors, as in
 * Istio 0.2. Objects are validated ({@link ConfigValidator}) as they are read.
 *
 * <pre>{@code
 * ParsedFile f = new ConfigParser("default", "cluster.local").read(Path.of("rules.yaml"));
 * }</pre>
 */
public final class ConfigParser {
  /** The namespace of objects that name none, unless another is given. */
  public static final String DEFAULT_NAMESPACE = "default";
  /** The API group and the versions accepted. */
  public static final String GROUP = ConfigKind.GROUP;
  /** The version of the CRDs. */
  public static final String VERSION = "v1alpha2";
  /** Also accepted: Bookinfo's destination-policy-reviews.yaml used it. */
  public static final String VERSION_ALIAS = "v1beta1";
  /** Larger files are refused unread. */
  public static final long MAX_FILE_BYTES = 8L * 1024 * 1024;

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private final String defaultNamespace;
  private final String domain;
  private final IngressOptions ingress;

  /** A parser that gives objects without a namespace {@code default} and no domain suffix. */
  public ConfigParser() {
    this(DEFAULT_NAMESPACE, "");
  }

  /**
   * A parser that also reads Kubernetes Ingress objects the options accept (as IngressRules, see
   * {@link IngressConversion}) and {@code kubernetes.io/tls} Secrets.
   *
   * @param defaultNamespace the namespace of objects that name none
   * @param domain the mesh's domain suffix
   * @param ingress which Ingresses to read ({@link IngressOptions#off()} for none)
   */
  public ConfigParser(String defaultNamespace, String domain, IngressOptions ingress) {
    this.defaultNamespace = requireNonNull(defaultNamespace, "defaultNamespace");
    this.domain = requireNonNull(domain, "domain");
    this.ingress = requireNonNull(ingress, "ingress");
    if (!ConfigValidator.isDns1123Label(defaultNamespace)) {
      throw new IllegalArgumentException("defaultNamespace: '" + defaultNamespace + "' (expected: a DNS-1123 label)");
    }
  }

  /**
   * @param defaultNamespace the namespace of objects that name none
   * @param domain the mesh's domain suffix recorded in each object's metadata, e.g. {@code
   *     cluster.local} (not part of an object's key)
   */
  public ConfigParser(String defaultNamespace, String domain) {
    this(defaultNamespace, domain, IngressOptions.defaults());
  }

  /** The domain suffix recorded in the objects read. */
  public String domain() {
    return domain;
  }

  /** Which Ingress objects are read. */
  public IngressOptions ingressOptions() {
    return ingress;
  }

  /** The namespace given to objects that name none. */
  public String defaultNamespace() {
    return defaultNamespace;
  }

  /** Reads a file: at most {@link #MAX_FILE_BYTES}, UTF-8 text. */
  public ParsedFile read(Path file) throws IOException {
    String source = file.toString();
    long size = Files.size(file);
    if (size > MAX_FILE_BYTES) {
      return new ParsedFile(source, tooLarge(source, size), List.of());
    }
    return parse(source, Files.readAllBytes(file));
  }

  /** Parses a file's bytes, which must be UTF-8 text. */
  public ParsedFile parse(String source, byte[] bytes) {
    String problem = textProblem(source, bytes);
    if (problem != null) {
      return new ParsedFile(source, problem, List.of());
    }
    return parse(source, new String(bytes, StandardCharsets.UTF_8));
  }

  /** Why {@code bytes} are not usable as a config file's text, or null when they are. */
  static String textProblem(String source, byte[] bytes) {
    if (bytes.length > MAX_FILE_BYTES) {
      return tooLarge(source, bytes.length);
    }
    for (byte b : bytes) {
      if (b == 0) {
        return source + ": not a text file (it holds NUL bytes)";
      }
    }
    try {
      StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return null;
    } catch (CharacterCodingException e) {
      return source + ": not valid UTF-8 text";
    }
  }

  private static String tooLarge(String source, long size) {
    return source + ": too large: " + size + " bytes (expected: at most " + MAX_FILE_BYTES + ")";
  }

  /** Parses YAML (or JSON) text holding any number of documents. */
  public ParsedFile parse(String source, String text) {
    requireNonNull(source, "source");
    requireNonNull(text, "text");
    List<Located> docs = new ArrayList<>();
    try {
      docs = documents(source, text);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      return new ParsedFile(source, yamlError(source, e), List.of());
    }
    List<ConfigDocument> out = new ArrayList<>();
    List<TlsSecret> secrets = new ArrayList<>();
    for (Located doc : docs) {
      if (doc.node().isNull() || doc.node().isMissingNode()) {
        continue; // an empty document, e.g. after a trailing ---
      }
      object(source + ":" + doc.line(), doc.node(), out, secrets);
    }
    return new ParsedFile(source, null, out, secrets);
  }

  /** Reads one object, e.g. a Kubernetes resource converted to a tree; a {@code List} is expanded. */
  public List<ConfigDocument> parseObject(String source, JsonNode object) {
    List<ConfigDocument> out = new ArrayList<>();
    object(requireNonNull(source, "source"), requireNonNull(object, "object"), out, new ArrayList<>());
    return out;
  }

  /**
   * Reads a bare spec (the {@code spec} part only, as in upstream's test rules) of {@code kind} and
   * validates it.
   *
   * @throws ConfigException naming {@code source}, the field and the problem
   */
  public Message parseSpec(ConfigKind kind, String source, String text) {
    requireNonNull(kind, "kind");
    List<Located> docs;
    try {
      docs = documents(source, text);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      throw new ConfigException(List.of(yamlError(source, e)));
    }
    if (docs.size() != 1) {
      throw new ConfigException(List.of(source + ": expected one document holding a " + kind.kubernetesKind()
          + " spec, found " + docs.size()));
    }
    List<FieldError> errors = new ArrayList<>();
    Message spec = SpecReader.read(kind.defaultInstance(), docs.get(0).node(), "spec", errors);
    if (spec != null) {
      errors.addAll(ConfigValidator.validate(kind, spec));
    }
    if (!errors.isEmpty()) {
      List<String> lines = new ArrayList<>();
      for (FieldError e : errors) {
        lines.add(source + ": " + kind.type() + ": " + e);
      }
      throw new ConfigException(lines);
    }
    return spec;
  }

  private record Located(JsonNode node, int line) {}

  private static List<Located> documents(String source, String text) throws IOException {
    List<Located> docs = new ArrayList<>();
    try (JsonParser parser = YAML.getFactory().createParser(text)) {
      while (parser.nextToken() != null) {
        int line = parser.currentTokenLocation().getLineNr();
        JsonNode node = YAML.readTree(parser);
        docs.add(new Located(node == null ? YAML.nullNode() : node, Math.max(line, 1)));
      }
    }
    return docs;
  }

  /**
   * {@code file:LINE:COL: not valid YAML: <the parser's message>}, with SnakeYAML's problem mark
   * when there is one (it points at the offending character, Jackson's location at the last token).
   */
  @SuppressWarnings("deprecation") // Jackson's wrapper is the way to the marks without naming SnakeYAML
  static String yamlError(String source, Throwable e) {
    if (e instanceof StackOverflowError) {
      return source + ": not valid YAML: nested too deeply to read";
    }
    String where = "";
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    Throwable cause = e;
    while (cause != null && !(cause instanceof MarkedYAMLException)) {
      cause = cause.getCause();
    }
    if (cause instanceof MarkedYAMLException m && m.getProblemMark() != null) {
      where = ":" + (m.getProblemMark().getLine() + 1) + ":" + (m.getProblemMark().getColumn() + 1);
      message = m.getOriginalMessage();
    } else if (e instanceof JsonProcessingException j) {
      if (j.getLocation() != null && j.getLocation().getLineNr() > 0) {
        where = ":" + j.getLocation().getLineNr() + ":" + j.getLocation().getColumnNr();
      }
      message = j.getOriginalMessage();
    }
    message = message.replace("'reader'", "'" + source + "'").strip();
    return source + where + ": not valid YAML: " + message;
  }

  private void object(String source, JsonNode doc, List<ConfigDocument> out, List<TlsSecret> secrets) {
    if (!doc.isObject()) {
      out.add(new ConfigDocument(source, "", "", null, "", "", null,
          List.of(new FieldError("", "a config document must be a map with apiVersion, kind, metadata and spec, got "
              + SpecReader.describe(doc))), ConfigDocument.Status.INVALID));
      return;
    }
    String apiVersion = doc.path("apiVersion").isTextual() ? doc.get("apiVersion").asText() : "";
    String kindName = doc.path("kind").isTextual() ? doc.get("kind").asText() : "";
    if (kindName.equals("List") || (kindName.endsWith("List") && kindName.length() > 4
        && ConfigKind.byKubernetesKind(kindName.substring(0, kindName.length() - 4)).isPresent())) {
      JsonNode items = doc.get("items");
      if (items != null && items.isArray()) {
        for (int i = 0; i < items.size(); i++) {
          object(source + " items[" + i + "]", items.get(i), out, secrets);
        }
        return;
      }
      if (items != null && !items.isNull()) {
        out.add(new ConfigDocument(source, apiVersion, kindName, null, "", "", null,
            List.of(new FieldError("items", "expected a list, got " + SpecReader.describe(items))),
            ConfigDocument.Status.INVALID));
      }
      return;
    }
    Optional<ConfigKind> kind = ConfigKind.byKubernetesKind(kindName);
    String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : apiVersion;
    JsonNode metadata = doc.path("metadata");
    String name = metadata.path("name").isTextual() ? metadata.get("name").asText() : "";
    String namespace = metadata.path("namespace").isTextual() && !metadata.get("namespace").asText().isEmpty()
        ? metadata.get("namespace").asText() : defaultNamespace;
    if (ingress.enabled() && IngressConversion.isIngress(apiVersion, kindName)) {
      if (ingress.accepts(doc)) {
        out.addAll(IngressConversion.convert(source, doc, defaultNamespace, domain));
      } else {
        out.add(new ConfigDocument(source, apiVersion, kindName, null, namespace, name, null,
            List.of(new FieldError("", "Ingress of class '" + IngressOptions.classOf(doc) + "' (this Pilot serves class '"
                + ingress.ingressClass() + "', mode " + ingress.mode() + ")")), ConfigDocument.Status.IGNORED));
      }
      return;
    }
    if (ingress.enabled() && kindName.equals("Secret") && TlsSecrets.isTls(doc)) {
      TlsSecrets.Result r = TlsSecrets.read(doc, defaultNamespace, "");
      if (r.valid()) {
        secrets.add(r.secret());
        out.add(new ConfigDocument(source, apiVersion, kindName, null, r.namespace(), r.name(), null,
            List.of(new FieldError("", "TLS secret for Ingresses")), ConfigDocument.Status.IGNORED));
      } else {
        out.add(new ConfigDocument(source, apiVersion, kindName, null, r.namespace(), r.name(), null,
            List.of(new FieldError("", "TLS secret " + r.namespace() + "/" + r.name() + " cannot be served: " + r.error())),
            ConfigDocument.Status.INVALID));
      }
      return;
    }
    if (kind.isEmpty() || (!apiVersion.isEmpty() && !group.equals(GROUP))) {
      String why = kindName.isEmpty()
          ? "no kind: not a Pilot config object"
          : "kind " + kindName + (apiVersion.isEmpty() ? "" : " (" + apiVersion + ")")
              + " is not a Pilot config kind (RouteRule, DestinationPolicy, EgressRule)";
      out.add(new ConfigDocument(source, apiVersion, kindName, null, namespace, name, null,
          List.of(new FieldError("", why)), ConfigDocument.Status.IGNORED));
      return;
    }
    List<FieldError> errors = new ArrayList<>();
    if (!apiVersion.isEmpty() && !apiVersion.equals(GROUP + "/" + VERSION) && !apiVersion.equals(GROUP + "/" + VERSION_ALIAS)) {
      errors.add(new FieldError("apiVersion", "'" + apiVersion + "' (expected: " + GROUP + "/" + VERSION + ")"));
    }
    Map<String, String> labels = Map.of();
    Map<String, String> annotations = Map.of();
    String resourceVersion = "";
    if (!metadata.isObject()) {
      errors.add(new FieldError("metadata", "required: a map with name (and namespace)"));
    } else {
      if (!metadata.path("name").isTextual()) {
        errors.add(new FieldError("metadata.name", metadata.has("name")
            ? "expected a string, got " + SpecReader.describe(metadata.get("name")) : "required"));
      }
      if (metadata.has("namespace") && !metadata.get("namespace").isTextual() && !metadata.get("namespace").isNull()) {
        errors.add(new FieldError("metadata.namespace", "expected a string, got "
            + SpecReader.describe(metadata.get("namespace"))));
      }
      labels = stringMap(metadata.get("labels"), "metadata.labels", errors);
      annotations = stringMap(metadata.get("annotations"), "metadata.annotations", errors);
      if (metadata.path("resourceVersion").isTextual()) {
        resourceVersion = metadata.get("resourceVersion").asText();
      }
    }
    ConfigMeta meta = new ConfigMeta(kind.get(), name, namespace, domain, labels, annotations, resourceVersion);
    if (!name.isEmpty()) {
      errors.addAll(ConfigValidator.validateMeta(meta));
    }
    JsonNode specNode = doc.get("spec");
    Message spec = null;
    if (specNode != null && !specNode.isNull() && !specNode.isObject()) {
      errors.add(new FieldError("spec", "expected a map, got " + SpecReader.describe(specNode)));
    } else {
      spec = SpecReader.read(kind.get().defaultInstance(), specNode, "spec", errors);
      if (spec != null) {
        errors.addAll(ConfigValidator.validate(kind.get(), spec));
      }
    }
    if (!errors.isEmpty() || spec == null) {
      out.add(new ConfigDocument(source, apiVersion, kindName, kind.get(), namespace, name, null, errors,
          ConfigDocument.Status.INVALID));
      return;
    }
    out.add(new ConfigDocument(source, apiVersion, kindName, kind.get(), namespace, name, new Config(meta, spec),
        List.of(), ConfigDocument.Status.VALID));
  }

  private static Map<String, String> stringMap(JsonNode node, String path, List<FieldError> errors) {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      errors.add(new FieldError(path, "expected a map of strings, got " + SpecReader.describe(node)));
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual()) {
        errors.add(new FieldError(path + "[" + e.getKey() + "]", "expected a string, got "
            + SpecReader.describe(e.getValue()) + " (quote it)"));
      } else {
        out.put(e.getKey(), e.getValue().asText());
      }
    }
    return out;
  }
}

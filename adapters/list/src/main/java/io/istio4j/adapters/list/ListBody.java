package io.istio4j.adapters.list;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.istio4j.adapters.list.config.Params.ListEntryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads the entries out of a fetched list body.
 *
 * <p>STRINGS, CASE_INSENSITIVE_STRINGS and REGEX bodies hold one entry per line; lines are stripped
 * of surrounding white space (so CRLF bodies work) and empty lines are skipped. IP_ADDRESSES bodies
 * are upstream's YAML, {@code whitelist: ["10.0.0.0/8", "1.2.3.4"]} (the key is {@code whitelist}
 * for blacklists too), a YAML sequence, or one entry per line like the other types.
 */
final class ListBody {

  /** Upstream lists of IP ranges can be large: allow 64 MiB instead of SnakeYAML's 3 MB default. */
  private static final ObjectMapper YAML;

  static {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(64 * 1024 * 1024);
    YAML = new ObjectMapper(YAMLFactory.builder().loaderOptions(options).build());
  }

  private ListBody() {}

  /**
   * The entries of {@code body}.
   *
   * @throws IllegalArgumentException when an IP_ADDRESSES body is YAML of another shape
   */
  static List<String> entries(String body, ListEntryType type) {
    if (type == ListEntryType.IP_ADDRESSES && looksLikeYaml(body)) {
      return yamlEntries(body);
    }
    List<String> entries = new ArrayList<>();
    body.lines().map(String::strip).filter(line -> !line.isEmpty()).forEach(entries::add);
    return entries;
  }

  /**
   * Whether the first non-blank line starts YAML rather than an address: a key, a sequence item, a
   * comment, a document start or a flow mapping. An address never starts with any of these (IPv6
   * text such as {@code ::1} starts with a colon, not a key).
   */
  private static boolean looksLikeYaml(String body) {
    String first = body.lines().map(String::strip).filter(line -> !line.isEmpty()).findFirst().orElse("");
    return first.startsWith("whitelist") || first.startsWith("-") || first.startsWith("#")
        || first.startsWith("{") || first.startsWith("[");
  }

  private static List<String> yamlEntries(String body) {
    Object doc;
    try {
      doc = YAML.readValue(body, Object.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the body is not YAML: " + e.getOriginalMessage());
    }
    Object list = doc instanceof Map<?, ?> map ? map.get("whitelist") : doc;
    if (!(list instanceof List<?> items)) {
      throw new IllegalArgumentException(
          "the body is YAML without a whitelist (expected: whitelist: [\"10.0.0.0/8\", \"1.2.3.4\"], or one entry per line)");
    }
    List<String> entries = new ArrayList<>(items.size());
    for (Object item : items) {
      if (item instanceof Map<?, ?> || item instanceof List<?> || item == null) {
        throw new IllegalArgumentException("whitelist item " + item + " is not a string");
      }
      entries.add(item.toString().strip());
    }
    return entries;
  }
}

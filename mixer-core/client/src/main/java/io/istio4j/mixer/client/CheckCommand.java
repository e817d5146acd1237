package io.istio4j.mixer.client;

import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.GoDuration;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.QuotaResult;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mixc check}: one or more Check calls, printed as upstream's mixc prints them. */
@Command(name = "check", mixinStandardHelpOptions = true, description = "Invokes Mixer's Check API.")
final class CheckCommand extends MixerCommand {

  @Option(names = {"-q", "--quotas"}, description = "name=amount,... quotas to allocate (best effort).")
  String quotas;

  @Option(names = {"-r", "--repeat"}, defaultValue = "1", description = "Times to send the call.")
  int repeat;

  @Override
  public Integer call() {
    CheckRequest request;
    Set<String> stringMaps;
    Map<String, Long> asked;
    try {
      Map<String, Object> attrs = attributeMap();
      stringMaps = mapNames(attrs);
      asked = parseQuotas(quotas);
      request = build(attrs, asked);
    } catch (IllegalArgumentException e) {
      return usageError(e);
    }
    return callRepeatedly("Check", repeat, (mixer, out) -> {
      CheckResponse response =
          mixer.check(request.toBuilder().setDeduplicationId(UUID.randomUUID().toString()).build());
      print(out, response, stringMaps);
      return allowed(response, asked);
    });
  }

  /**
   * Whether a proxy would let the request through: precondition OK and every quota granted in full
   * (mixerclient answers RESOURCE_EXHAUSTED when a grant falls short of the amount asked).
   */
  static boolean allowed(CheckResponse r, Map<String, Long> asked) {
    if (r.getPrecondition().getStatus().getCode() != 0) {
      return false;
    }
    for (Map.Entry<String, Long> q : asked.entrySet()) {
      QuotaResult result = r.getQuotasMap().get(q.getKey());
      if (result == null || result.getGrantedAmount() < q.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** As upstream mixc: every word in the message dictionary, global_word_count 0. */
  static CheckRequest build(Map<String, Object> attrs, Map<String, Long> quotas) {
    CheckRequest.Builder b = CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(attrs, 0))
        .setGlobalWordCount(0);
    quotas.forEach((name, amount) -> b.putQuotas(name,
        CheckRequest.QuotaParams.newBuilder().setAmount(amount).setBestEffort(true).build()));
    return b.build();
  }

  static Map<String, Long> parseQuotas(String list) {
    Map<String, Long> q = new LinkedHashMap<>();
    if (list == null || list.isEmpty()) {
      return q;
    }
    for (String item : list.split(",")) {
      int eq = item.indexOf('=');
      if (eq == 0 || item.isEmpty()) {
        throw new IllegalArgumentException("--quotas: '" + item + "' has no quota name (expected: name=amount)");
      }
      try {
        q.put(eq < 0 ? item : item.substring(0, eq), eq < 0 ? 1L : Long.parseLong(item.substring(eq + 1)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--quotas: " + item + " (expected: name=amount)");
      }
    }
    return q;
  }

  static Set<String> mapNames(Map<String, Object> attrs) {
    Set<String> names = new HashSet<>();
    attrs.forEach((k, v) -> {
      if (v instanceof Map) {
        names.add(k);
      }
    });
    return names;
  }

  static void print(PrintWriter out, CheckResponse r, Set<String> stringMaps) {
    CheckResponse.PreconditionResult p = r.getPrecondition();
    com.google.rpc.Status s = p.getStatus();
    out.println("Check RPC completed successfully. Check status was "
        + io.grpc.Status.fromCodeValue(s.getCode()).getCode()
        + (s.getMessage().isEmpty() ? "" : " (" + s.getMessage() + ")"));
    out.println("  Valid use count: " + p.getValidUseCount() + ", valid duration: "
        + (p.hasValidDuration() ? GoDuration.format(toDuration(p.getValidDuration())) : "(none)"));
    printReferenced(out, "  ", p.getReferencedAttributes(), stringMaps);
    r.getQuotasMap().forEach((name, q) -> printQuota(out, name, q, stringMaps));
  }

  private static void printQuota(PrintWriter out, String name, QuotaResult q, Set<String> stringMaps) {
    out.println("  Quota '" + name + "': granted " + q.getGrantedAmount() + ", valid duration: "
        + (q.hasValidDuration() ? GoDuration.format(toDuration(q.getValidDuration())) : "(none)"));
    printReferenced(out, "    ", q.getReferencedAttributes(), stringMaps);
  }

  /** Decodes names and map keys against the global dictionary and the message's own words. */
  static void printReferenced(PrintWriter out, String indent, ReferencedAttributes refs, Set<String> stringMaps) {
    out.println(indent + "Referenced Attributes");
    if (refs.getAttributeMatchesCount() == 0) {
      out.println(indent + "  <none>");
    }
    List<String> words = refs.getWordsList();
    for (AttributeMatch m : refs.getAttributeMatchesList()) {
      String name = word(m.getName(), words);
      // map_key 0 means "no key" (the whole map); mixc sends no global words, so keys are never 0.
      String key = stringMaps.contains(name) && m.getMapKey() != 0
          ? "[" + word(m.getMapKey(), words) + "]" : "";
      out.println(indent + "  " + name + key + " " + m.getCondition());
    }
  }

  private static String word(int index, List<String> words) {
    String w = AttributesEncoder.word(index, words);
    return w != null ? w : index >= 0 ? "<bad global index " + index + ">" : "<bad message index " + index + ">";
  }

  private static Duration toDuration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }
}

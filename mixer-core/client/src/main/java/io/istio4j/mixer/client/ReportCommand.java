package io.istio4j.mixer.client;

import io.istio4j.mixer.attribute.GlobalDictionary;
import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.v1.ReportRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mixc report}: one or more Report calls. */
@Command(name = "report", mixinStandardHelpOptions = true, description = "Invokes Mixer's Report API.")
final class ReportCommand extends MixerCommand {

  @Option(names = {"-r", "--repeat"}, defaultValue = "1", description = "Times to send the call.")
  int repeat;

  @Override
  public Integer call() {
    ReportRequest request;
    try {
      request = build(attributeMap());
    } catch (IllegalArgumentException e) {
      return usageError(e);
    }
    return callRepeatedly("Report", repeat, (mixer, out) -> {
      mixer.report(request);
      out.println("Report RPC returned OK");
      return true;
    });
  }

  /**
   * {@code n} records in one request, delta-encoded against the global dictionary as mixerclient
   * batches them. Records differ as a proxy's do: each has its own {@code request.id} (the given one
   * with a {@code -i} suffix), a {@code request.time} {@code i} ms later and a
   * {@code response.duration} of 1-50 ms, so every record after the first carries those three.
   */
  static ReportRequest batch(Map<String, Object> attrs, int n) {
    ReportBatchEncoder batch = new ReportBatchEncoder(GlobalDictionary.SIZE);
    String id = String.valueOf(attrs.getOrDefault("request.id", "load"));
    Instant time = attrs.get("request.time") instanceof Instant t ? t : Instant.EPOCH;
    for (int i = 0; i < n; i++) {
      Map<String, Object> record = new LinkedHashMap<>(attrs);
      record.put("request.id", id + "-" + i);
      record.put("request.time", time.plusMillis(i));
      record.put("response.duration", Duration.ofMillis(1 + (i * 7L) % 50));
      batch.add(record);
    }
    return batch.build();
  }

  /** One record, every word in the message dictionary, global_word_count 0 (as upstream mixc). */
  static ReportRequest build(Map<String, Object> attrs) {
    ReportBatchEncoder batch = new ReportBatchEncoder(0);
    batch.add(attrs);
    return batch.build();
  }
}

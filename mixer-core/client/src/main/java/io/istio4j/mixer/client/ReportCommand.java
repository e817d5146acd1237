package io.istio4j.mixer.client;

import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.v1.ReportRequest;
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
    });
  }

  /** One record, every word in the message dictionary, global_word_count 0 (as upstream mixc). */
  static ReportRequest build(Map<String, Object> attrs) {
    ReportBatchEncoder batch = new ReportBatchEncoder(0);
    batch.add(attrs);
    return batch.build();
  }
}

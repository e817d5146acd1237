package io.istio4j.mixer.client;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.mixer.v1.ReportRequest;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mixc report}: one or more Report calls. */
@Command(name = "report", mixinStandardHelpOptions = true, description = "Invokes Mixer's Report API.")
final class ReportCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  Mixc.Target target = new Mixc.Target();

  @CommandLine.ArgGroup(exclusive = false)
  AttributeFlags attributes = new AttributeFlags();

  @Option(names = {"-r", "--repeat"}, defaultValue = "1", description = "Times to send the call.")
  int repeat;

  @Override
  public Integer call() {
    PrintWriter out = Mixc.out(spec);
    ReportRequest request;
    try {
      request = build(attributes.toMap());
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("mixc: " + e.getMessage());
      return 2;
    }
    ManagedChannel channel = target.channel();
    int failures = 0;
    try {
      MixerGrpc.MixerBlockingStub mixer = MixerGrpc.newBlockingStub(channel);
      for (int i = 0; i < repeat; i++) {
        try {
          mixer.report(request);
          out.println("Report RPC returned OK");
        } catch (StatusRuntimeException e) {
          failures++;
          out.println("Report RPC failed with: " + e.getStatus().getCode() + " "
              + e.getStatus().getDescription());
        }
      }
    } finally {
      channel.shutdownNow();
    }
    out.flush();
    return failures == 0 ? 0 : 1;
  }

  /** One record, every word in the message dictionary, global_word_count 0 (as upstream mixc). */
  static ReportRequest build(Map<String, Object> attrs) {
    ReportBatchEncoder batch = new ReportBatchEncoder(0);
    batch.add(attrs);
    return batch.build();
  }
}

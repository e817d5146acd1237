package io.istio4j.mixer.client;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.istio4j.mixer.v1.MixerGrpc;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

/** What every mixc subcommand that talks to Mixer shares: the target and the attribute flags. */
abstract class MixerCommand implements Callable<Integer> {

  /** Exit code for a flag value that cannot be used. */
  static final int USAGE = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  Mixc.Target target = new Mixc.Target();

  @Mixin
  AttributeFlags attributes = new AttributeFlags();

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** The attributes given on the command line; throws IllegalArgumentException naming a bad flag. */
  Map<String, Object> attributeMap() {
    return attributes.toMap();
  }

  int usageError(IllegalArgumentException e) {
    spec.commandLine().getErr().println("mixc: " + e.getMessage());
    return USAGE;
  }

  interface Call {
    void run(MixerGrpc.MixerBlockingStub mixer, PrintWriter out);
  }

  /** Makes {@code repeat} calls on one channel; prints failures; exit 0 only if all succeeded. */
  int callRepeatedly(String rpc, int repeat, Call call) {
    PrintWriter out = out();
    ManagedChannel channel = target.channel();
    int failures = 0;
    try {
      MixerGrpc.MixerBlockingStub mixer = MixerGrpc.newBlockingStub(channel);
      for (int i = 0; i < repeat; i++) {
        try {
          call.run(mixer, out);
        } catch (StatusRuntimeException e) {
          failures++;
          out.println(rpc + " RPC failed with: " + e.getStatus().getCode() + " "
              + e.getStatus().getDescription());
        }
      }
    } finally {
      channel.shutdownNow();
      out.flush();
    }
    return failures == 0 ? 0 : 1;
  }
}

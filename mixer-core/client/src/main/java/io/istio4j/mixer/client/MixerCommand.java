package io.istio4j.mixer.client;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.istio4j.mixer.v1.MixerGrpc;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

/** What every mixc subcommand that talks to Mixer shares: the target and the attribute flags. */
abstract class MixerCommand implements Callable<Integer> {

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
    return Mixc.USAGE;
  }

  interface Call {
    /** Makes one call and prints its answer; false when Mixer said no (a denied Check). */
    boolean run(MixerGrpc.MixerBlockingStub mixer, PrintWriter out);
  }

  /**
   * Makes {@code repeat} calls on one channel, each with the {@code --timeout} deadline, and prints
   * failures. Exit {@link Mixc#RPC_FAILED} if any call failed, else {@link Mixc#DENIED} if any was
   * denied, else {@link Mixc#OK}.
   */
  int callRepeatedly(String rpc, int repeat, Call call) {
    if (repeat < 1) {
      return usageError(new IllegalArgumentException("--repeat: " + repeat + " (expected: >= 1)"));
    }
    PrintWriter out = out();
    ManagedChannel channel = target.channel();
    int failed = 0;
    int denied = 0;
    try {
      MixerGrpc.MixerBlockingStub mixer = MixerGrpc.newBlockingStub(channel);
      for (int i = 0; i < repeat; i++) {
        try {
          if (!call.run(mixer.withDeadlineAfter(target.timeout.toNanos(), TimeUnit.NANOSECONDS), out)) {
            denied++;
          }
        } catch (StatusRuntimeException e) {
          failed++;
          out.println(rpc + " RPC failed with: " + describe(e.getStatus(), target.mixer));
        }
      }
    } finally {
      channel.shutdownNow();
      out.flush();
    }
    return failed > 0 ? Mixc.RPC_FAILED : denied > 0 ? Mixc.DENIED : Mixc.OK;
  }

  /**
   * A failed call's status, its cause (gRPC's "io exception" alone does not say "connection
   * refused") and the address, so the reader knows which Mixer did not answer.
   */
  static String describe(Status status, MixerAddress mixer) {
    StringBuilder s = new StringBuilder(status.getCode().name());
    if (status.getDescription() != null) {
      s.append(' ').append(status.getDescription());
    }
    Throwable cause = status.getCause();
    if (cause != null && cause.getMessage() != null
        && (status.getDescription() == null || !status.getDescription().contains(cause.getMessage()))) {
      s.append(": ").append(cause.getMessage());
    }
    return s.append(" (Mixer at ").append(mixer).append(')').toString();
  }
}

package io.istio4j.mixer.client;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mixc}: Mixer's client command line. */
@Command(name = "mixc", mixinStandardHelpOptions = true, version = "mixc",
    description = "Talks to Mixer: send Check and Report calls, generate load, evaluate expressions.",
    subcommands = {CheckCommand.class, ReportCommand.class, LoadCommand.class, ExprCommand.class})
public final class Mixc implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, for embedding and tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new Mixc());
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Options every subcommand that talks to Mixer has. */
  static class Target {
    @Option(names = {"-m", "--mixer"}, defaultValue = "localhost:9091",
        description = "Mixer's address, host:port (default: ${DEFAULT-VALUE}).")
    String mixer;

    ManagedChannel channel() {
      return NettyChannelBuilder.forTarget(mixer).usePlaintext().maxInboundMessageSize(16 << 20).build();
    }

    /** A channel whose callbacks run on its transport thread: the load generator's callbacks only record and resend. */
    ManagedChannel directChannel() {
      return NettyChannelBuilder.forTarget(mixer).usePlaintext().directExecutor()
          .maxInboundMessageSize(16 << 20).build();
    }
  }
}

package io.istio4j.mixer.client;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.istio4j.mixer.attribute.GoDuration;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mixc}: Mixer's client command line.
 *
 * <p>Exit codes: {@value #OK} every call succeeded and every Check was allowed; {@value #DENIED} a
 * Check was denied (precondition status not OK) or granted less quota than asked, or every {@code load}
 * request was denied; {@value #USAGE} a flag, an address or an input file cannot be used;
 * {@value #RPC_FAILED} a call failed (Mixer unreachable, unknown host, deadline exceeded, an error
 * status); {@value #BUG} mixc itself failed.
 */
@Command(name = "mixc", mixinStandardHelpOptions = true, versionProvider = Mixc.Version.class,
    description = "Talks to Mixer: send Check and Report calls, generate load, evaluate expressions.",
    subcommands = {CheckCommand.class, ReportCommand.class, LoadCommand.class, ExprCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:every call succeeded and every Check was allowed",
        "1:a Check was denied or granted less quota than asked; every load request denied",
        "2:usage error: a bad flag, address or input file",
        "3:a call failed: Mixer unreachable, unknown host, deadline exceeded",
        "4:mixc itself failed (a bug; the stack trace follows)"})
public final class Mixc implements Runnable {

  static final int OK = 0;
  static final int DENIED = 1;
  static final int USAGE = 2;
  static final int RPC_FAILED = 3;
  static final int BUG = 4;

  /** The longest duration a flag takes: longer ones overflow a deadline in nanoseconds. */
  static final Duration LONGEST = Duration.ofHours(24);

  /**
   * gRPC logs through java.util.logging, with stack traces, what the status it returns already says
   * (an unknown host, a refused connection); mixc prints that status. Held strongly: JUL keeps loggers
   * weakly and would forget the level.
   */
  private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, for embedding and tests. */
  public static CommandLine commandLine() {
    GRPC_LOG.setLevel(Level.SEVERE);
    CommandLine cl = new CommandLine(new Mixc());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    // picocli gives a subcommand no version of its own: "mixc check -V" would print an empty line.
    Version version = new Version();
    for (CommandLine sub : cl.getSubcommands().values()) {
      sub.getCommandSpec().versionProvider(version);
    }
    cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      err.println("mixc: unexpected failure (a bug in mixc): " + e);
      e.printStackTrace(err);
      err.flush();
      return BUG;
    });
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** {@code mixc <project version>}, from the version.properties the build writes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Mixc.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"mixc " + p.getProperty("version", "unknown")};
    }
  }

  /** Options every subcommand that talks to Mixer has. */
  static class Target {
    @Option(names = {"-m", "--mixer"}, defaultValue = "localhost:9091", converter = MixerAddress.Converter.class,
        description = "Mixer's address, host:port or [IPv6]:port (default: ${DEFAULT-VALUE}).")
    MixerAddress mixer;

    @Option(names = "--timeout", defaultValue = "10s", converter = DurationConverter.class,
        description = "Deadline of each call, including connecting (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    ManagedChannel channel() {
      return NettyChannelBuilder.forAddress(mixer.host(), mixer.port()).usePlaintext()
          .maxInboundMessageSize(16 << 20).build();
    }

    /** A channel whose callbacks run on its transport thread: the load generator's callbacks only record and resend. */
    ManagedChannel directChannel() {
      return NettyChannelBuilder.forAddress(mixer.host(), mixer.port()).usePlaintext().directExecutor()
          .maxInboundMessageSize(16 << 20).build();
    }
  }

  /** A Go-style duration ({@code 500ms}, {@code 10s}) that must be positive. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      Duration d;
      try {
        d = GoDuration.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' (expected: a duration such as 500ms or 10s)");
      }
      if (d.isNegative() || d.isZero() || d.compareTo(LONGEST) > 0) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' (expected: a duration > 0 and at most " + GoDuration.format(LONGEST) + ")");
      }
      return d;
    }
  }
}

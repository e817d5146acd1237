package io.istio4j.pilot.discovery;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code pilot-discovery}: Pilot's command line. {@code discovery} runs the server; {@code validate}
 * checks a config directory offline; {@code dump} prints what Pilot serves a given node over ADS.
 *
 * <p>Exit codes: 0 success, 1 invalid config (or a failed dump), 2 usage errors (bad flags, ports that
 * cannot be bound, unreadable files).
 */
@Command(name = "pilot-discovery", mixinStandardHelpOptions = true, versionProvider = PilotDiscovery.Version.class,
    description = "Pilot: service discovery and traffic config for Envoy sidecars and proxyless gRPC, over xDS v3.",
    subcommands = {DiscoveryCommand.class, ValidateCommand.class, DumpCommand.class, LoadTestCommand.class,
        PilotDiscovery.VersionCommand.class})
public final class PilotDiscovery implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line: {@code -V} prints the version on every subcommand; enum values match in any case. */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new PilotDiscovery());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    Version version = new Version();
    for (CommandLine sub : cl.getSubcommands().values()) {
      sub.getCommandSpec().versionProvider(version);
    }
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"pilot-discovery " + BuildInfo.version()};
    }
  }

  @Command(name = "version", description = "Prints the version.")
  static final class VersionCommand implements Runnable {
    @Override
    public void run() {
      System.out.println("pilot-discovery " + BuildInfo.version());
    }
  }

  /** Go-style durations, as upstream's flags took them: {@code 500ms}, {@code 5s}, {@code 1m30s}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      String v = value.strip();
      if (v.equals("0")) {
        return Duration.ZERO;
      }
      Matcher m = PART.matcher(v);
      double nanos = 0;
      int end = 0;
      while (m.find() && m.start() == end) {
        double n = Double.parseDouble(m.group(1));
        nanos += n * switch (m.group(2)) {
          case "ns" -> 1;
          case "us", "µs" -> 1e3;
          case "ms" -> 1e6;
          case "s" -> 1e9;
          case "m" -> 60e9;
          default -> 3600e9;
        };
        end = m.end();
      }
      if (end == 0 || end != v.length()) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a duration (expected: e.g. 500ms, 5s, 1m30s)");
      }
      return Duration.ofNanos((long) nanos);
    }
  }
}

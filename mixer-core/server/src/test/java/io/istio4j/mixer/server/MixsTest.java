package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixer.runtime.RuntimeOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MixsTest {

  static String run(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cl = Mixs.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(out));
    assertThat(cl.execute(args)).as(out.toString()).isZero();
    return out.toString();
  }

  @Test
  void dashCapitalVPrintsTheVersionOnTheTopCommandAndEverySubcommand() {
    String expected = "mixs " + BuildInfo.version() + System.lineSeparator();
    assertThat(BuildInfo.version()).isNotBlank();
    assertThat(run("-V")).isEqualTo(expected);
    assertThat(run("--version")).isEqualTo(expected);
    assertThat(run("server", "-V")).isEqualTo(expected);
    assertThat(run("validate", "-V")).isEqualTo(expected);
    assertThat(run("inventory", "--version")).isEqualTo(expected);
  }

  @Test
  void enumFlagValuesAreCaseInsensitive() {
    for (String value : new String[] {"open", "Open", "OPEN"}) {
      CommandLine cl = Mixs.commandLine();
      CommandLine.ParseResult parsed = cl.parseArgs("server", "--handlerFailurePolicy", value);
      Mixs.ServerCommand server = parsed.subcommand().commandSpec().commandLine().getCommand();
      assertThat(server.handlerFailurePolicy).isEqualTo(RuntimeOptions.FailurePolicy.OPEN);
    }
  }
}

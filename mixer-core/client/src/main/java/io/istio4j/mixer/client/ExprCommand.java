package io.istio4j.mixer.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code mixc expr}: evaluates expressions given as JSON Lines (see docs/expressions.md). */
@Command(name = "expr", mixinStandardHelpOptions = true,
    description = "Evaluates expressions: reads JSON Lines {\"expression\", \"manifest\", \"attributes\"} "
        + "from FILE (or standard input) and writes one JSON line per input line.")
final class ExprCommand implements Callable<Integer> {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "FILE", description = "Input file; standard input when absent or '-'.")
  Path file;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (BufferedReader in = file == null || file.toString().equals("-")
        ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
        : Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        out.println(ExpressionLines.evaluate(line));
      }
    } catch (NoSuchFileException e) {
      return cannotRead("no such file");
    } catch (AccessDeniedException e) {
      return cannotRead("permission denied");
    } catch (IOException | UncheckedIOException e) {
      // A directory, a device error, bytes that are not UTF-8: the user's input, not a bug in mixc.
      return cannotRead(e.getMessage());
    } finally {
      out.flush();
    }
    return Mixc.OK;
  }

  private int cannotRead(String why) {
    spec.commandLine().getErr().println("mixc expr: cannot read " + file + ": " + why);
    spec.commandLine().getErr().flush();
    return Mixc.USAGE;
  }
}

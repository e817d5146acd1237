package io.istio4j.pilot.config;

import java.util.List;

/** Config that cannot be used; the message names the file or object, the field and the reason. */
public class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** One line per problem. */
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  /** The problems, one per line of the message. */
  public List<String> problems() {
    return problems;
  }
}

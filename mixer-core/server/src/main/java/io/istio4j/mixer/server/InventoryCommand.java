package io.istio4j.mixer.server;

import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.template.Template;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.Templates;
import java.io.PrintStream;
import java.util.ServiceConfigurationError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code mixs inventory}: the templates and adapters compiled into this build, so an operator can
 * see exactly what a Mixer distribution contains and which config kinds it accepts.
 */
@Command(name = "inventory", mixinStandardHelpOptions = true,
    description = "Lists the templates and adapters compiled into this build.")
final class InventoryCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    Build build = Build.load("inventory");
    if (build == null) {
      return 1;
    }
    print(System.out, build.templates(), build.adapters());
    return 0;
  }

  /** The templates and adapters on the class path; what {@code mixs inventory} lists. */
  record Build(Templates templates, Adapters adapters) {
    /** Loads them, or says on stderr why this build is inconsistent and returns null. */
    static Build load(String command) {
      ClassLoader loader = InventoryCommand.class.getClassLoader();
      try {
        Templates templates = Templates.load(loader);
        return new Build(templates, Adapters.load(loader, templates));
      } catch (RuntimeException | ServiceConfigurationError e) {
        System.err.println("mixs " + command + ": this build is inconsistent: " + e.getMessage());
        return null;
      }
    }
  }

  static void print(PrintStream out, Templates templates, Adapters adapters) {
    out.printf("TEMPLATES (%d)%n", templates.all().size());
    for (Template t : templates.all()) {
      out.printf("  %-16s %-8s %s%n", t.name(), t.variety(), t.handlerType().getName());
    }
    out.printf("ADAPTERS (%d)%n", adapters.all().size());
    for (AdapterInfo a : adapters.all()) {
      out.printf("  %-16s %-40s %s%n", a.name(), String.join(",", a.supportedTemplates()), a.description());
    }
  }
}

package io.istio4j.mixer.server;

import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.server.kubernetes.MixerCrds;
import io.istio4j.mixer.server.kubernetes.MixerKind;
import java.util.ServiceConfigurationError;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code mixs crds}: the CustomResourceDefinitions of the kinds this build reads ({@code rules},
 * {@code attributemanifests}, one per adapter and one per template), with OpenAPI schemas generated
 * from the adapter and template protos, as YAML for {@code mixs crds | kubectl apply -f -}.
 */
@Command(name = "crds", mixinStandardHelpOptions = true,
    description = "Prints the CustomResourceDefinitions of this build's config kinds (for kubectl apply -f -).")
final class CrdsCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    ClassLoader loader = CrdsCommand.class.getClassLoader();
    Templates templates;
    Adapters adapters;
    try {
      templates = Templates.load(loader);
      adapters = Adapters.load(loader, templates);
    } catch (RuntimeException | ServiceConfigurationError e) {
      System.err.println("mixs crds: this build is inconsistent: " + e.getMessage());
      return 1;
    }
    System.out.print(MixerCrds.yaml(MixerKind.of(templates, adapters)));
    return 0;
  }
}

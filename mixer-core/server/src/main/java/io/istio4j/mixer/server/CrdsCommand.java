package io.istio4j.mixer.server;

import io.istio4j.mixer.server.kubernetes.MixerCrds;
import io.istio4j.mixer.server.kubernetes.MixerKind;
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
    InventoryCommand.Build build = InventoryCommand.Build.load("crds");
    if (build == null) {
      return 1;
    }
    System.out.print(MixerCrds.yaml(MixerKind.of(build.templates(), build.adapters())));
    return 0;
  }
}

package io.istio4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes: every manifest parses into fabric8's typed model, and the references between
 * them, and to the build, hold: the CRDs are the default build's kinds, RBAC grants reading exactly
 * those, the Deployments run the image the build names as its non-root user on the ports mixs serves,
 * the probes, Services and the webhook point at ports and paths that exist.
 */
class DeployManifestsTest {

  static final Path ROOT = Path.of(System.getProperty("istio4j.root", "../"));
  static final Path DEPLOY = ROOT.resolve("deploy/kubernetes");
  static final String NS = "istio-system";

  static List<HasMetadata> objects = new ArrayList<>();

  @BeforeAll
  static void parseEveryManifest() throws IOException {
    try (Stream<Path> files = Files.list(DEPLOY)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml") && !p.endsWith("kustomization.yaml"))
          .sorted().collect(Collectors.toList())) {
        for (String doc : Files.readString(f).split("(?m)^---\\s*$")) {
          if (doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
            continue;
          }
          Object o = Serialization.unmarshal(doc);
          assertThat(o).as("a document of %s", f.getFileName()).isInstanceOf(HasMetadata.class);
          assertThat(o.getClass().getSimpleName()).as("typed, not generic: %s", f.getFileName())
              .isNotEqualTo("GenericKubernetesResource");
          objects.add((HasMetadata) o);
        }
      }
    }
  }

  static <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
  }

  static <T extends HasMetadata> T one(Class<T> type, String name) {
    List<T> found = all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).collect(Collectors.toList());
    assertThat(found).as("%s %s", type.getSimpleName(), name).hasSize(1);
    return found.get(0);
  }

  @Test
  void kustomizationListsEveryManifest() throws IOException {
    String kustomization = Files.readString(DEPLOY.resolve("kustomization.yaml"));
    try (Stream<Path> files = Files.list(DEPLOY)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
          .forEach(n -> assertThat(kustomization).contains("  - " + n));
    }
    assertThat(one(Namespace.class, NS)).isNotNull();
    objects.stream().filter(o -> !(o instanceof Namespace || o instanceof CustomResourceDefinition
            || o instanceof ClusterRole || o instanceof ClusterRoleBinding || o instanceof ValidatingWebhookConfiguration))
        .forEach(o -> assertThat(o.getMetadata().getNamespace()).as(o.getMetadata().getName()).isEqualTo(NS));
  }

  @Test
  void crdsAreTheKindsOfTheDefaultBuild() throws IOException {
    Set<String> kinds = new TreeSet<>(Set.of("rule", "attributemanifest"));
    kinds.addAll(inventoryNames());
    Set<String> crdKinds = new TreeSet<>();
    for (CustomResourceDefinition crd : all(CustomResourceDefinition.class)) {
      var spec = crd.getSpec();
      String kind = spec.getNames().getKind();
      crdKinds.add(kind);
      assertThat(spec.getGroup()).isEqualTo("config.istio.io");
      assertThat(spec.getScope()).isEqualTo("Namespaced");
      assertThat(spec.getNames().getPlural()).isEqualTo(plural(kind));
      assertThat(crd.getMetadata().getName()).isEqualTo(plural(kind) + ".config.istio.io");
      assertThat(spec.getVersions()).singleElement().satisfies(v -> {
        assertThat(v.getName()).isEqualTo("v1alpha2");
        assertThat(v.getServed()).isTrue();
        assertThat(v.getStorage()).isTrue();
      });
    }
    assertThat(crdKinds).as("CRDs of 10-crds.yaml vs rule, attributemanifest and the default build's inventory")
        .isEqualTo(kinds);
  }

  @Test
  void rbacGrantsReadingExactlyTheCrdsToTheServiceAccountOfBothDeployments() {
    Set<String> plurals = plurals();
    ClusterRole role = one(ClusterRole.class, "istio-mixer-config-reader");
    assertThat(role.getRules()).singleElement().satisfies((PolicyRule r) -> {
      assertThat(r.getApiGroups()).containsExactly("config.istio.io");
      assertThat(new TreeSet<>(r.getResources())).isEqualTo(plurals);
      assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch");
    });
    ClusterRoleBinding binding = one(ClusterRoleBinding.class, "istio-mixer-config-reader");
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getRoleRef().getKind()).isEqualTo("ClusterRole");
    ServiceAccount sa = one(ServiceAccount.class, "istio-mixer");
    assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(sa.getMetadata().getName());
      assertThat(s.getNamespace()).isEqualTo(sa.getMetadata().getNamespace());
    });
    for (Deployment d : all(Deployment.class)) {
      assertThat(d.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("istio-mixer");
    }
  }

  @Test
  void mixerRunsTheBuildsImageNonRootReadOnlyWithProbesOnItsMonitoringPort() throws IOException {
    Deployment d = one(Deployment.class, "istio-mixer");
    Container c = container(d);
    assertThat(c.getImage()).isEqualTo(imageOfTheBuild());
    assertThat(c.getArgs()).contains("server", "--configStoreURL=k8s://", "--port=9091", "--monitoringPort=9093");
    assertThat(ports(c)).containsEntry("grpc-mixer", 9091).containsEntry("http-monitoring", 9093)
        .containsEntry("http-prometheus", 42422);
    assertThat(imagePorts()).as("the image's exposed ports are the container's").isSubsetOf(ports(c).values());
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http-monitoring");
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http-monitoring");
    assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", "9093");
    assertHardened(d, c);
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    assertThat(d.getSpec().getSelector().getMatchLabels())
        .isEqualTo(d.getSpec().getTemplate().getMetadata().getLabels());

    Service s = one(Service.class, "istio-mixer");
    assertThat(s.getSpec().getSelector()).isEqualTo(d.getSpec().getTemplate().getMetadata().getLabels());
    for (ServicePort p : s.getSpec().getPorts()) {
      assertThat(ports(c)).containsKey(p.getTargetPort().getStrVal());
      assertThat(p.getPort()).isEqualTo(ports(c).get(p.getTargetPort().getStrVal()));
    }
  }

  @Test
  void theWebhookReachesTheValidatorOnItsTlsPortForEveryConfigKind() throws IOException {
    Deployment d = one(Deployment.class, "istio-mixer-validator");
    Container c = container(d);
    assertThat(c.getImage()).isEqualTo(imageOfTheBuild());
    assertThat(c.getArgs()).contains("validator", "--port=9443", "--configStoreURL=k8s://");
    String cert = arg(c, "--tlsCert=");
    String key = arg(c, "--tlsKey=");
    var mount = c.getVolumeMounts().stream().filter(m -> cert.startsWith(m.getMountPath() + "/")).findFirst();
    assertThat(mount).as("a volume holds %s", cert).isPresent();
    assertThat(key).startsWith(mount.get().getMountPath() + "/");
    assertThat(d.getSpec().getTemplate().getSpec().getVolumes()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo(mount.get().getName());
      assertThat(v.getSecret().getSecretName()).isEqualTo("istio-mixer-validator-tls");
    });
    assertThat(ports(c)).containsEntry("https-webhook", 9443);
    assertThat(c.getReadinessProbe().getHttpGet().getScheme()).isEqualTo("HTTPS");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertHardened(d, c);

    Service s = one(Service.class, "istio-mixer-validator");
    assertThat(s.getSpec().getSelector()).isEqualTo(d.getSpec().getTemplate().getMetadata().getLabels());
    ValidatingWebhookConfiguration config = one(ValidatingWebhookConfiguration.class, "istio-mixer-validator");
    ValidatingWebhook hook = config.getWebhooks().get(0);
    assertThat(config.getWebhooks()).hasSize(1);
    assertThat(hook.getAdmissionReviewVersions()).containsExactly("v1");
    assertThat(hook.getSideEffects()).isEqualTo("None");
    var ref = hook.getClientConfig().getService();
    assertThat(ref.getName()).isEqualTo(s.getMetadata().getName());
    assertThat(ref.getNamespace()).isEqualTo(s.getMetadata().getNamespace());
    assertThat(ref.getPath()).isEqualTo("/validate");
    ServicePort sp = s.getSpec().getPorts().stream().filter(p -> p.getPort().equals(ref.getPort())).findFirst()
        .orElseThrow(() -> new AssertionError("no port " + ref.getPort() + " on service " + s.getMetadata().getName()));
    assertThat(ports(c)).containsKey(sp.getTargetPort().getStrVal());
    assertThat(hook.getRules()).singleElement().satisfies(r -> {
      assertThat(r.getApiGroups()).containsExactly("config.istio.io");
      assertThat(r.getApiVersions()).containsExactly("v1alpha2");
      assertThat(r.getOperations()).containsExactlyInAnyOrder("CREATE", "UPDATE", "DELETE");
      assertThat(new TreeSet<>(r.getResources())).isEqualTo(plurals());
    });
  }

  private static void assertHardened(Deployment d, Container c) throws IOException {
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(Long.valueOf(imageUser()));
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    // A read-only root: /tmp is the one writable path, an emptyDir.
    assertThat(c.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(pod.getVolumes()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo("tmp");
      assertThat(v.getEmptyDir()).isNotNull();
    });
  }

  private static Container container(Deployment d) {
    assertThat(d.getSpec().getTemplate().getSpec().getContainers()).hasSize(1);
    return d.getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  private static String arg(Container c, String prefix) {
    return c.getArgs().stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length()))
        .findFirst().orElseThrow(() -> new AssertionError("no " + prefix + " argument"));
  }

  private static Map<String, Integer> ports(Container c) {
    return c.getPorts().stream().collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
  }

  static String plural(String kind) {
    if (kind.endsWith("s") || kind.endsWith("x")) {
      return kind + "es";
    }
    if (kind.endsWith("y") && kind.length() > 1 && "aeiou".indexOf(kind.charAt(kind.length() - 2)) < 0) {
      // English, as mixs crds does: listentry -> listentries, apikey -> apikeys (docs/RATIONALE.md).
      return kind.substring(0, kind.length() - 1) + "ies";
    }
    return kind + "s";
  }

  private static Set<String> plurals() {
    return all(CustomResourceDefinition.class).stream().map(c -> c.getSpec().getNames().getPlural())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** The templates and adapters of the default build, as its distribution's inventory.txt lists them. */
  private static Set<String> inventoryNames() throws IOException {
    Path inventory = ROOT.resolve("mixer-core/distribution/target/mixs/inventory.txt");
    assertThat(inventory).as("the default build's inventory: build mixer-core/distribution first").exists();
    Set<String> names = new TreeSet<>();
    for (String line : Files.readAllLines(inventory)) {
      if (line.startsWith("  ")) {
        names.add(line.strip().split("\\s+")[0]);
      }
    }
    return names;
  }

  private static String mixerBuildPom() throws IOException {
    return Files.readString(ROOT.resolve("build-tools/mixer-build/pom.xml"));
  }

  private static String property(String pom, String name) {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]*)</").matcher(pom);
    assertThat(m.find()).as("property %s in build-tools/mixer-build/pom.xml", name).isTrue();
    return m.group(1);
  }

  /** The image name the default build gives its image: mixer.image.name with the project's version. */
  private static String imageOfTheBuild() throws IOException {
    String version = System.getProperty("istio4j.version");
    assertThat(version).as("system property istio4j.version (set by the POM)").isNotNull();
    return property(mixerBuildPom(), "mixer.image.name").replace("${project.version}", version);
  }

  private static String imageUser() throws IOException {
    return property(mixerBuildPom(), "mixer.image.user");
  }

  private static Set<Integer> imagePorts() throws IOException {
    Set<Integer> ports = new TreeSet<>();
    Matcher m = Pattern.compile("<port>(\\d+)</port>").matcher(mixerBuildPom());
    while (m.find()) {
      ports.add(Integer.valueOf(m.group(1)));
    }
    assertThat(ports).isNotEmpty();
    return ports;
  }
}

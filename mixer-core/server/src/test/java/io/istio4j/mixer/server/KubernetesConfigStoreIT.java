package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.server.kubernetes.KubernetesStore;
import io.istio4j.mixer.server.kubernetes.MixerCrds;
import io.istio4j.mixer.server.kubernetes.MixerKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mixs server --configStoreURL k8s:///kubeconfig} against fabric8's mock API server in CRUD
 * mode: objects created, edited and deleted there decide Checks; a bad edit keeps the last good
 * version and is listed; the API server going away and coming back costs no serving.
 */
class KubernetesConfigStoreIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ClassLoader LOADER = KubernetesConfigStoreIT.class.getClassLoader();
  private static final Templates TEMPLATES = Templates.load(LOADER);
  private static final List<MixerKind> KINDS = MixerKind.of(TEMPLATES, Adapters.load(LOADER, TEMPLATES));

  /** Plurals whose CRD the API server does not have: it answers 404 for them, as a real one does. */
  private final Set<String> missingCrds = ConcurrentHashMap.newKeySet();
  // The CRUD mock serves any resource whether its CRD exists or not; this one does not.
  private final KubernetesCrudDispatcher state = new KubernetesCrudDispatcher() {
    @Override
    public MockResponse dispatch(RecordedRequest request) {
      Matcher m = CUSTOM_RESOURCE.matcher(request.getPath());
      if (m.find() && missingCrds.contains(m.group(1))) {
        return new MockResponse().setResponseCode(404).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
            + "\"status\":\"Failure\",\"message\":\"the server could not find the requested resource\","
            + "\"reason\":\"NotFound\",\"code\":404}");
      }
      return super.dispatch(request);
    }
  };
  private static final Pattern CUSTOM_RESOURCE =
      Pattern.compile("^/apis/config\\.istio\\.io/v1alpha2/(?:namespaces/[^/]+/)?([a-z]+)");
  private KubernetesMockServer api;
  private KubernetesClient client;
  private int port;
  private Path kubeconfig;

  @BeforeEach
  void startApiServer(@TempDir Path dir) throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    startApi();
    for (CustomResourceDefinition crd : MixerCrds.of(KINDS)) {
      client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    }
    kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "http://localhost:%d"}}]
        users: [{name: mixer, user: {token: secret}}]
        contexts: [{name: mock, context: {cluster: mock, user: mixer, namespace: istio-system}}]
        current-context: mock
        """.formatted(port));
  }

  /** (Re)starts the API server on the same port and with the same objects. */
  private void startApi() {
    api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), state, false);
    api.init(InetAddress.getLoopbackAddress(), port);
    client = api.createClient();
  }

  private void stopApi() {
    client.close();
    api.destroy();
  }

  @AfterEach
  void stop() {
    stopApi();
  }

  private void apply(String yaml) {
    for (String doc : yaml.split("(?m)^---\\n")) {
      GenericKubernetesResource r = Serialization.unmarshal(doc, GenericKubernetesResource.class);
      MixerKind kind = KINDS.stream().filter(k -> k.name().equals(r.getKind())).findFirst().orElseThrow();
      client.genericKubernetesResources(kind.context()).inNamespace(r.getMetadata().getNamespace()).resource(r)
          .createOr(existing -> existing.update());
    }
  }

  private void delete(String kind, String namespace, String name) {
    MixerKind k = KINDS.stream().filter(x -> x.name().equals(kind)).findFirst().orElseThrow();
    client.genericKubernetesResources(k.context()).inNamespace(namespace).withName(name).delete();
  }

  private static String denial(ManagedChannel ch, String user) {
    return ConfigReloadTest.check(ch, user).getPrecondition().getStatus().getMessage();
  }

  private static String get(MixerServer server, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.monitoringPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** Waits (up to 30 s; no timing is asserted) until {@code value} gives {@code expected}. */
  private static <T> T eventually(Supplier<T> value, T expected) throws InterruptedException {
    T last = null;
    for (long deadline = System.nanoTime() + 30_000_000_000L; System.nanoTime() < deadline; ) {
      last = value.get();
      if (expected.equals(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    return last;
  }

  private MixerServer startMixer() throws IOException {
    return MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("k8s://" + kubeconfig));
  }

  @Test
  void createEditDeleteAndABadEditDecideChecks() throws Exception {
    apply(ConfigReloadTest.MANIFEST + "---\n" + ConfigReloadTest.policy("go away"));
    try (MixerServer server = startMixer()) {
      assertThat(server.isReady()).isTrue();
      assertThat(get(server, "/readyz")).isEqualTo("ready: config snapshot 1 live\n");
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        assertThat(denial(ch, "mallory")).isEqualTo("deny.testdeny.istio-system:go away");
        assertThat(denial(ch, "alice")).isEmpty();

        // edit
        apply(ConfigReloadTest.policy("not you"));
        assertThat(eventually(() -> denial(ch, "mallory"), "deny.testdeny.istio-system:not you"))
            .isEqualTo("deny.testdeny.istio-system:not you");

        // create: a second rule in another namespace's config, applying to every request via istio-system
        apply("""
            apiVersion: config.istio.io/v1alpha2
            kind: rule
            metadata: {name: noeve, namespace: istio-system}
            spec:
              match: source.user == "eve"
              actions: [{handler: deny.testdeny, instances: [nothing.checknothing]}]
            """);
        assertThat(eventually(() -> denial(ch, "eve"), "deny.testdeny.istio-system:not you"))
            .isEqualTo("deny.testdeny.istio-system:not you");

        // a bad edit: the rule's last good version stays, and /debug/config names the object and field
        apply("""
            apiVersion: config.istio.io/v1alpha2
            kind: rule
            metadata: {name: nomallory, namespace: istio-system}
            spec:
              match: source.usr == "mallory"
              actions: [{handler: deny.testdeny, instances: [nothing.checknothing]}]
            """);
        String status = eventually(() -> {
          try {
            String s = get(server, "/debug/config");
            return s.contains("unknown attribute source.usr") ? "seen" : s;
          } catch (Exception e) {
            return e.toString();
          }
        }, "seen");
        assertThat(status).isEqualTo("seen");
        String debug = get(server, "/debug/config");
        assertThat(debug).contains("\"name\" : \"nomallory.rule.istio-system\"").contains("\"state\" : \"stale\"")
            .contains("spec.match").contains("k8s:rules/istio-system/nomallory@");
        assertThat(denial(ch, "mallory")).isEqualTo("deny.testdeny.istio-system:not you");

        // delete
        delete("rule", "istio-system", "nomallory");
        assertThat(eventually(() -> denial(ch, "mallory"), "")).isEmpty();
        assertThat(denial(ch, "eve")).isEqualTo("deny.testdeny.istio-system:not you");
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void anApiOutageCostsNoServingAndTheStoreCatchesUp() throws Exception {
    apply(ConfigReloadTest.MANIFEST + "---\n" + ConfigReloadTest.policy("go away"));
    try (MixerServer server = startMixer()) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        assertThat(denial(ch, "mallory")).isEqualTo("deny.testdeny.istio-system:go away");
        stopApi();
        // The API server is gone: Mixer answers from the config it has, and stays ready.
        for (int i = 0; i < 20; i++) {
          assertThat(denial(ch, "mallory")).isEqualTo("deny.testdeny.istio-system:go away");
        }
        assertThat(get(server, "/readyz")).startsWith("ready: ");

        // Meanwhile the config changes through another API server replica (same storage).
        KubernetesMockServer replica = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
            state, false);
        replica.init();
        try (KubernetesClient other = replica.createClient()) {
          MixerKind testdeny = KINDS.stream().filter(k -> k.name().equals("testdeny")).findFirst().orElseThrow();
          GenericKubernetesResource handler = other.genericKubernetesResources(testdeny.context())
              .inNamespace("istio-system").withName("deny").get();
          handler.setAdditionalProperty("spec", Map.of("message", "changed while you were away"));
          other.genericKubernetesResources(testdeny.context()).inNamespace("istio-system").resource(handler).update();
        } finally {
          replica.destroy();
        }
        assertThat(denial(ch, "mallory")).isEqualTo("deny.testdeny.istio-system:go away");

        startApi(); // back, on the same address: the informers reconnect, list again and catch up
        assertThat(eventually(() -> denial(ch, "mallory"), "deny.testdeny.istio-system:changed while you were away"))
            .isEqualTo("deny.testdeny.istio-system:changed while you were away");
        // and follow new changes again
        apply(ConfigReloadTest.policy("watching again"));
        assertThat(eventually(() -> denial(ch, "mallory"), "deny.testdeny.istio-system:watching again"))
            .isEqualTo("deny.testdeny.istio-system:watching again");
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void aNamespaceListLimitsWhatIsRead() throws Exception {
    apply(ConfigReloadTest.MANIFEST + "---\n" + ConfigReloadTest.policy("go away"));
    apply("""
        apiVersion: config.istio.io/v1alpha2
        kind: checknothing
        metadata: {name: elsewhere, namespace: prod}
        spec: {}
        """);
    AtomicReference<ConfigStore.Content> seen = new AtomicReference<>();
    try (KubernetesStore store = new KubernetesStore(client, false, KINDS,
        KubernetesStore.Options.defaults("istio-system").withNamespaces(List.of("prod")))) {
      ConfigStore.Content first = store.start(seen::set);
      assertThat(first.objects()).extracting(o -> o.fqn()).containsExactly("elsewhere.checknothing.prod");
      assertThat(first.objects().get(0).source()).startsWith("k8s:checknothings/prod/elsewhere@");
    }
    try (KubernetesStore store = new KubernetesStore(client, false, KINDS,
        new KubernetesStore.Options(List.of(), "istio-system", Duration.ZERO, Duration.ZERO, Duration.ZERO))) {
      assertThat(store.read().objects()).hasSize(5);
    }
  }

  @Test
  void anObjectThatIsNoConfigObjectIsReportedWithItsNameAndField() throws Exception {
    MixerKind checknothing = KINDS.stream().filter(k -> k.name().equals("checknothing")).findFirst().orElseThrow();
    GenericKubernetesResource odd = Serialization.unmarshal("""
        apiVersion: config.istio.io/v1alpha2
        kind: checknothing
        metadata: {name: odd, namespace: istio-system}
        spec: [not, a, map]
        """, GenericKubernetesResource.class);
    client.genericKubernetesResources(checknothing.context()).inNamespace("istio-system").resource(odd).create();
    try (KubernetesStore store = new KubernetesStore(client, false, KINDS,
        KubernetesStore.Options.defaults("istio-system"))) {
      ConfigStore.Content first = store.start(c -> { });
      assertThat(first.objects()).isEmpty();
      assertThat(first.problems()).singleElement().satisfies(p -> {
        assertThat(p.source()).startsWith("k8s:checknothings/istio-system/odd@");
        assertThat(p.message()).isEqualTo("spec: must be a map");
        assertThat(p.fqn()).isEqualTo("odd.checknothing.istio-system");
      });
    }
  }

  @Test
  void aKindWhoseCrdIsMissingIsAProblemNamingTheCrdUntilItIsInstalled() throws Exception {
    MixerKind denier = KINDS.stream().filter(k -> k.name().equals("testdeny")).findFirst().orElseThrow();
    missingCrds.add(denier.plural());
    apply(ConfigReloadTest.MANIFEST);
    AtomicReference<ConfigStore.Content> latest = new AtomicReference<>();
    // No grace: start goes on as soon as the missing kind's list has failed with 404.
    try (KubernetesStore store = new KubernetesStore(api.createClient(), true, KINDS, new KubernetesStore.Options(
        List.of(), "istio-system", Duration.ofMillis(50), Duration.ofMinutes(5), Duration.ZERO))) {
      ConfigStore.Content first = store.start(latest::set);
      assertThat(first.problems()).singleElement().satisfies(p -> {
        assertThat(p.source()).isEqualTo("k8s:" + denier.plural());
        assertThat(p.message()).isEqualTo("no CRD " + denier.crdName() + " in the API server (404): objects of kind "
            + "testdeny are ignored until it is installed (mixs crds | kubectl apply -f -)");
      });
      assertThat(first.objects()).isNotEmpty(); // the other kinds are read

      // The same problem through the whole pipeline: /debug/config lists it as rejected.
      // Installing the CRD takes the problem away, even before an object of the kind exists.
      missingCrds.remove(denier.plural());
      assertThat(eventually(() -> latest.get() != null && latest.get().problems().isEmpty(), true)).isTrue();
      apply(ConfigReloadTest.policy("go away"));
      assertThat(eventually(() -> latest.get().objects().stream().anyMatch(o -> o.kind().equals("testdeny")), true))
          .isTrue();
    }
  }

  @Test
  void aMissingCrdShowsOnDebugConfigOfAServingMixer() throws Exception {
    MixerKind denier = KINDS.stream().filter(k -> k.name().equals("testdeny")).findFirst().orElseThrow();
    missingCrds.add(denier.plural());
    apply(ConfigReloadTest.MANIFEST);
    try (MixerServer server = MixerServer.start(ServerOptions.ephemeral()
        .withConfigStoreUrl("k8s://" + kubeconfig + "?missingCrdGrace=0s"))) {
      String debug = get(server, "/debug/config");
      assertThat(debug).contains("k8s:" + denier.plural()).contains("no CRD " + denier.crdName());
      assertThat(get(server, "/metrics")).contains("mixer_config_objects{state=\"rejected\"} 1.0");
    }
    // --configStrict refuses to start while a CRD is missing, naming it.
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = new CommandLine(new Mixs()).execute("server", "--configStrict", "--configStoreURL",
          "k8s://" + kubeconfig + "?missingCrdGrace=0s", "-p", "0", "--monitoringPort", "0");
    } finally {
      System.setErr(original);
    }
    assertThat(code).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--configStrict: 1 config object(s) rejected")
        .contains("k8s:" + denier.plural()).contains("no CRD " + denier.crdName());
  }

  @Test
  void closingWhileWaitingForAnUnreachableApiServerEndsTheStart() throws Exception {
    stopApi();
    KubernetesClient unreachable = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfig.toFile()))
        .build();
    KubernetesStore store = new KubernetesStore(unreachable, true, KINDS,
        KubernetesStore.Options.defaults("istio-system"));
    CompletableFuture<Throwable> started = CompletableFuture.supplyAsync(() -> {
      try {
        store.start(c -> { });
        return null;
      } catch (Throwable e) {
        return e;
      }
    });
    store.close(); // whether start is waiting already or not: it ends, with an IOException or refusal
    assertThat(started.get(30, TimeUnit.SECONDS)).isNotNull()
        .satisfiesAnyOf(e -> assertThat(e).isInstanceOf(IOException.class).hasMessageContaining("closed"),
            e -> assertThat(e).isInstanceOf(IllegalStateException.class).hasMessageContaining("after close()"));
    startApi(); // for @AfterEach
  }

  @Test
  void configNamespacesNeedAKubernetesStore() {
    assertThat(Mixs.withNamespaces("k8s://", List.of("a", "b"))).isEqualTo("k8s://?namespaces=a,b");
    assertThat(Mixs.withNamespaces("k8s://?resync=1m", List.of("a"))).isEqualTo("k8s://?resync=1m&namespaces=a");
    assertThatThrownBy(() -> Mixs.withNamespaces("fs:///etc/mixer", List.of("a")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only with a k8s:// --configStoreURL");
  }

  @Test
  void aBadConfigStoreUrlIsRefusedClearly() throws IOException {
    Path garbage = kubeconfig.resolveSibling("garbage");
    Files.writeString(garbage, "clusters: [this is {not a kubeconfig");
    assertThatThrownBy(() -> MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("k8s://" + garbage)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("kubeconfig " + garbage + " cannot be read: ");
    assertThatThrownBy(() -> MixerServer.start(
            ServerOptions.ephemeral().withConfigStoreUrl("k8s:///no/such/kubeconfig")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("kubeconfig /no/such/kubeconfig is not a file");
    assertThatThrownBy(() -> MixerServer.start(
            ServerOptions.ephemeral().withConfigStoreUrl("k8s://?namespaces=Bad_NS")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("config namespace 'Bad_NS' (expected: a DNS label");
  }
}

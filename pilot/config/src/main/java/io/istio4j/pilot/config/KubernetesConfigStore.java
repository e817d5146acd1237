package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.StatusDetails;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigStoreException;
import io.istio4j.pilot.model.TlsSecret;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code k8s://}: RouteRules, DestinationPolicies and EgressRules as Kubernetes custom resources
 * ({@code routerules.config.istio.io} etc., version {@code v1alpha2}; install the CRDs from {@link
 * #crdYaml()}), watched with fabric8 informers as {@link GenericKubernetesResource}s.
 *
 * <p>Every object is parsed and validated as {@code fs://} does; an invalid one is logged and
 * skipped (its last valid version stays served) and listed with its errors by {@link #statuses()}.
 * Listeners hear only of real changes (a resync or a status update fires nothing), one at a time, on
 * the store's event thread. {@link #hasSynced()} turns true once all informers have listed
 * their kind and those objects are in the store.
 *
 * <p>Ingresses: unless the parser's {@link IngressOptions} are OFF, {@code networking.k8s.io/v1}
 * Ingress objects of the served class are watched too and served as IngressRules ({@link
 * IngressConversion}; not writable here), with the {@code kubernetes.io/tls} Secrets they name (a
 * Secret informer with the field selector {@code type=kubernetes.io/tls}, so Pilot needs list and
 * watch on Secrets) as their certificates; a changed Secret is an UPDATE of the rules naming it. {@code create}, {@code update} (optimistic
 * concurrency on {@code resourceVersion}) and {@code delete} write through the API server; the
 * store's view follows when the informer sees the change.
 */
public final class KubernetesConfigStore implements ValidatingConfigStore {
  private static final Logger log = LoggerFactory.getLogger(KubernetesConfigStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<ConfigKind> KINDS =
      Set.copyOf(EnumSet.of(ConfigKind.ROUTE_RULE, ConfigKind.DESTINATION_POLICY, ConfigKind.EGRESS_RULE));
  private static final Set<ConfigKind> SERVED_WITH_INGRESS = Set.copyOf(EnumSet.of(ConfigKind.ROUTE_RULE,
      ConfigKind.DESTINATION_POLICY, ConfigKind.EGRESS_RULE, ConfigKind.INGRESS_RULE));

  private final KubernetesClient client;
  private final boolean ownsClient;
  private final @Nullable String namespace;
  private final ConfigParser parser;
  private final ConfigCache cache = new ConfigCache();
  private final Map<String, ConfigObjectStatus> statuses = new ConcurrentHashMap<>();
  private final Map<String, String> servedFrom = new ConcurrentHashMap<>();
  private final Map<ConfigKind, SharedIndexInformer<GenericKubernetesResource>> informers = new EnumMap<>(ConfigKind.class);
  private final ExecutorService events = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pilot-config-k8s");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean synced;
  private @Nullable SharedIndexInformer<Ingress> ingressInformer;
  private @Nullable SharedIndexInformer<Secret> secretInformer;
  /** The IngressRule keys (served or rejected) each Ingress ({@code namespace/name}) produced. */
  private final Map<String, Set<String>> rulesOfIngress = new ConcurrentHashMap<>();
  /** Valid TLS secrets by {@code <name>.<namespace>}. */
  private final Map<String, TlsSecret> secrets = new ConcurrentHashMap<>();

  /**
   * @param client the API server's client
   * @param namespace the one namespace to watch, or null for all
   * @param parser validates objects and records the domain suffix in them
   * @param ownsClient whether {@link #close()} closes the client
   */
  public KubernetesConfigStore(KubernetesClient client, @Nullable String namespace, ConfigParser parser,
      boolean ownsClient) {
    this.client = requireNonNull(client, "client");
    this.namespace = namespace == null || namespace.isEmpty() ? null : namespace;
    this.parser = requireNonNull(parser, "parser");
    this.ownsClient = ownsClient;
  }

  /** The CRD of a kind: group {@code config.istio.io}, version {@code v1alpha2}, namespaced. */
  public static ResourceDefinitionContext context(ConfigKind kind) {
    return new ResourceDefinitionContext.Builder()
        .withGroup(ConfigKind.GROUP)
        .withVersion(ConfigParser.VERSION)
        .withKind(kind.kubernetesKind())
        .withPlural(kind.crdPlural())
        .withNamespaced(true)
        .build();
  }

  /** The CustomResourceDefinitions of the three kinds, as YAML for {@code kubectl apply -f -}. */
  public static String crdYaml() {
    try (InputStream in = KubernetesConfigStore.class.getResourceAsStream("crds.yaml")) {
      if (in == null) {
        throw new IllegalStateException("crds.yaml is missing from the istio4j-pilot-config jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String url() {
    return namespace == null ? "k8s://" : "k8s://?namespace=" + namespace;
  }

  @Override
  public Set<ConfigKind> kinds() {
    return parser.ingressOptions().enabled() ? SERVED_WITH_INGRESS : KINDS;
  }

  @Override
  public Optional<TlsSecret> tlsSecret(String reference) {
    return Optional.ofNullable(secrets.get(reference));
  }

  @Override
  public Optional<Config> get(ConfigKind kind, String name, String ns) {
    return cache.get(kind, name, ns);
  }

  @Override
  public List<Config> list(ConfigKind kind, String ns) {
    return cache.list(kind, ns);
  }

  @Override
  public void addListener(Consumer<ConfigEvent> listener) {
    cache.addListener(listener);
  }

  @Override
  public List<ConfigObjectStatus> statuses() {
    List<ConfigObjectStatus> out = new ArrayList<>(statuses.values());
    out.sort((a, b) -> a.key().compareTo(b.key()));
    return out;
  }

  @Override
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public synchronized void start() {
    if (!informers.isEmpty()) {
      return;
    }
    List<CompletableFuture<Void>> started = new ArrayList<>();
    for (ConfigKind kind : KINDS) {
      MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> op =
          client.genericKubernetesResources(context(kind));
      SharedIndexInformer<GenericKubernetesResource> informer = namespace == null
          ? op.inAnyNamespace().runnableInformer(0)
          : op.inNamespace(namespace).runnableInformer(0);
      informer.addEventHandler(new Handler(kind));
      informer.exceptionHandler((isStarted, t) -> {
        // Keep retrying (a missing CRD, the API server down): the store stays unsynced, so Pilot stays unready.
        log.warn("config {}: watching {}.{} failed: {} (is the CRD installed? kubectl apply -f crds.yaml); retrying",
            url(), kind.crdPlural(), ConfigKind.GROUP, t.toString());
        return true;
      });
      informers.put(kind, informer);
      started.add(informer.start().toCompletableFuture());
    }
    if (parser.ingressOptions().enabled()) {
      startIngressInformers(started);
    }
    CompletableFuture.allOf(started.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
      if (e != null) {
        log.error("config {}: the informers did not start", url(), e);
        return;
      }
      events.execute(() -> {
        // The informers' caches hold the initial lists now; their add events may still be queued,
        // so the lists are applied here (applying is idempotent) before the store says it synced.
        for (Map.Entry<ConfigKind, SharedIndexInformer<GenericKubernetesResource>> i : informers.entrySet()) {
          for (GenericKubernetesResource r : i.getValue().getStore().list()) {
            upsert(i.getKey(), r);
          }
        }
        if (secretInformer != null && ingressInformer != null) {
          for (Secret s : secretInformer.getStore().list()) {
            upsertSecret(s);
          }
          for (Ingress i : ingressInformer.getStore().list()) {
            upsertIngress(i);
          }
        }
        synced = true;
        log.info("config {}: synced, {} objects", url(), cache.size());
      });
    });
  }

  private void startIngressInformers(List<CompletableFuture<Void>> started) {
    var ingresses = client.network().v1().ingresses();
    ingressInformer = namespace == null ? ingresses.inAnyNamespace().runnableInformer(0)
        : ingresses.inNamespace(namespace).runnableInformer(0);
    ingressInformer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Ingress obj) {
        events.execute(() -> upsertIngress(obj));
      }

      @Override
      public void onUpdate(Ingress oldObj, Ingress newObj) {
        events.execute(() -> upsertIngress(newObj));
      }

      @Override
      public void onDelete(Ingress obj, boolean deletedFinalStateUnknown) {
        events.execute(() -> removeIngress(obj.getMetadata().getNamespace() + "/" + obj.getMetadata().getName()));
      }
    });
    var secretOps = client.secrets();
    secretInformer = (namespace == null ? secretOps.inAnyNamespace().withField("type", TlsSecrets.TYPE)
        : secretOps.inNamespace(namespace).withField("type", TlsSecrets.TYPE)).runnableInformer(0);
    secretInformer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Secret obj) {
        events.execute(() -> upsertSecret(obj));
      }

      @Override
      public void onUpdate(Secret oldObj, Secret newObj) {
        events.execute(() -> upsertSecret(newObj));
      }

      @Override
      public void onDelete(Secret obj, boolean deletedFinalStateUnknown) {
        events.execute(() -> removeSecret(obj.getMetadata().getNamespace(), obj.getMetadata().getName()));
      }
    });
    for (SharedIndexInformer<?> i : List.of(ingressInformer, secretInformer)) {
      i.exceptionHandler((isStarted, t) -> {
        log.warn("config {}: watching {} failed: {} (does Pilot's service account may list and watch them?); retrying",
            url(), i == ingressInformer ? "ingresses.networking.k8s.io" : "secrets", t.toString());
        return true;
      });
      started.add(i.start().toCompletableFuture());
    }
  }

  /** Converts an Ingress and replaces the IngressRules it produced before. */
  private void upsertIngress(Ingress ingress) {
    String id = ingress.getMetadata().getNamespace() + "/" + ingress.getMetadata().getName();
    String source = "k8s:ingresses/" + id;
    try {
      JsonNode tree = JSON.valueToTree(ingress);
      if (!parser.ingressOptions().accepts(tree)) {
        // Its class changed away from ours, or it never was ours.
        removeIngress(id);
        return;
      }
      List<ConfigDocument> docs = IngressConversion.convert(source, tree, parser.defaultNamespace(), parser.domain());
      Set<String> keys = new HashSet<>();
      for (ConfigDocument d : docs) {
        if (!d.hasIdentity()) {
          log.warn("config {}: {}", source, d.describe().replace('\n', ';'));
          continue;
        }
        String key = d.key();
        keys.add(key);
        if (d.status() == ConfigDocument.Status.VALID) {
          statuses.put(key, new ConfigObjectStatus(key, source, ConfigObjectStatus.State.VALID, List.of(), ""));
          cache.put(d.config());
        } else {
          // A rule of an Ingress is rebuilt from the whole object: no older version of it is kept.
          log.warn("config {}: rejected: {}", key, d.describe().replace('\n', ';'));
          statuses.put(key, new ConfigObjectStatus(key, source, ConfigObjectStatus.State.REJECTED,
              List.of(d.describe().split("\n")), ""));
          cache.remove(key);
        }
      }
      Set<String> before = rulesOfIngress.put(id, keys);
      if (before != null) {
        for (String key : before) {
          if (!keys.contains(key)) {
            statuses.remove(key);
            cache.remove(key);
          }
        }
      }
    } catch (RuntimeException e) {
      log.error("config {}: cannot be read", source, e);
    }
  }

  private void removeIngress(String id) {
    Set<String> keys = rulesOfIngress.remove(id);
    if (keys != null) {
      for (String key : keys) {
        statuses.remove(key);
        cache.remove(key);
      }
    }
  }

  private void upsertSecret(Secret secret) {
    String ns = secret.getMetadata().getNamespace();
    String name = secret.getMetadata().getName();
    String key = "secret/" + ns + "/" + name;
    if (!TlsSecrets.TYPE.equals(secret.getType())) {
      removeSecret(ns, name);
      return;
    }
    try {
      TlsSecrets.Result r = TlsSecrets.read(JSON.valueToTree(secret), parser.defaultNamespace(),
          String.valueOf(secret.getMetadata().getResourceVersion()));
      String ref = TlsSecret.reference(ns, name);
      TlsSecret before = secrets.get(ref);
      if (r.valid()) {
        statuses.remove(key);
        if (before != null && before.certificateChain().equals(r.secret().certificateChain())
            && before.privateKey().equals(r.secret().privateKey())) {
          return;
        }
        secrets.put(ref, r.secret());
      } else {
        // Refused, not kept: serving a certificate whose Secret now says otherwise would hide the problem.
        log.warn("config k8s:secrets/{}/{}: TLS secret cannot be served: {}; hosts using it get no TLS listener",
            ns, name, r.error());
        statuses.put(key, new ConfigObjectStatus(key, "k8s:secrets/" + ns + "/" + name,
            ConfigObjectStatus.State.REJECTED, List.of("TLS secret cannot be served: " + r.error()), ""));
        if (secrets.remove(ref) == null) {
          return;
        }
      }
      cache.secretChanged(ref);
    } catch (RuntimeException e) {
      log.error("config k8s:secrets/{}/{}: cannot be read", ns, name, e);
    }
  }

  private void removeSecret(String ns, String name) {
    statuses.remove("secret/" + ns + "/" + name);
    String ref = TlsSecret.reference(ns, name);
    if (secrets.remove(ref) != null) {
      cache.secretChanged(ref);
    }
  }

  /** Informer callbacks, handed to the store's single event thread. */
  private final class Handler implements ResourceEventHandler<GenericKubernetesResource> {
    private final ConfigKind kind;

    Handler(ConfigKind kind) {
      this.kind = kind;
    }

    @Override
    public void onAdd(GenericKubernetesResource obj) {
      events.execute(() -> upsert(kind, obj));
    }

    @Override
    public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
      events.execute(() -> upsert(kind, newObj));
    }

    @Override
    public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {
      events.execute(() -> remove(kind, obj));
    }
  }

  private static String source(ConfigKind kind, GenericKubernetesResource r) {
    return "k8s:" + kind.crdPlural() + "/" + r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }

  private void upsert(ConfigKind kind, GenericKubernetesResource r) {
    String source = source(kind, r);
    try {
      JsonNode tree = JSON.valueToTree(r);
      List<ConfigDocument> docs = parser.parseObject(source, tree);
      if (docs.size() != 1) {
        log.warn("config {}: expected one object, read {}", source, docs.size());
        return;
      }
      ConfigDocument d = docs.get(0);
      if (d.kind() != kind || !d.hasIdentity()) {
        log.warn("config {}: not a {}: {}", source, kind.kubernetesKind(), d.describe());
        return;
      }
      String key = d.key();
      if (d.status() == ConfigDocument.Status.VALID) {
        // Status first: a listener that reads the status on the event sees the version it is told of.
        servedFrom.put(key, source + "@" + d.config().meta().resourceVersion());
        statuses.put(key, new ConfigObjectStatus(key, source, ConfigObjectStatus.State.VALID, List.of(), ""));
        cache.put(d.config());
        return;
      }
      boolean live = cache.get(key).isPresent();
      List<String> errors = List.of(d.describe().split("\n"));
      log.warn("config {}: {}: {}", key, live ? "keeping the last valid version" : "rejected", String.join("; ", errors));
      statuses.put(key, new ConfigObjectStatus(key, source,
          live ? ConfigObjectStatus.State.STALE : ConfigObjectStatus.State.REJECTED, errors,
          live ? servedFrom.getOrDefault(key, "") : ""));
    } catch (RuntimeException e) {
      // One object that cannot be read must not stop the event thread.
      log.error("config {}: cannot be read", source, e);
    }
  }

  private void remove(ConfigKind kind, GenericKubernetesResource r) {
    String key = kind.type() + "/" + r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    statuses.remove(key);
    servedFrom.remove(key);
    cache.remove(key);
  }

  // ---- writes ----

  private void checkWritable(Config config) {
    if (!KINDS.contains(config.meta().kind())) {
      throw new ConfigStoreException(config.key() + ": this store does not hold " + config.meta().kind().type());
    }
    List<FieldError> errors = ConfigValidator.validate(config);
    if (!errors.isEmpty()) {
      throw new ConfigStoreException(ConfigValidator.describe(config.meta(), errors));
    }
  }

  /** The Kubernetes object of a config. */
  static GenericKubernetesResource toResource(Config config) {
    GenericKubernetesResource r = new GenericKubernetesResource();
    r.setApiVersion(ConfigKind.GROUP + "/" + ConfigParser.VERSION);
    r.setKind(config.meta().kind().kubernetesKind());
    r.setMetadata(new ObjectMetaBuilder()
        .withName(config.meta().name())
        .withNamespace(config.meta().namespace())
        .withLabels(config.meta().labels().isEmpty() ? null : config.meta().labels())
        .withAnnotations(config.meta().annotations().isEmpty() ? null : config.meta().annotations())
        .withResourceVersion(config.meta().resourceVersion().isEmpty() ? null : config.meta().resourceVersion())
        .build());
    try {
      String json = JsonFormat.printer().print(config.spec());
      r.setAdditionalProperty("spec", JSON.readValue(json, Map.class));
    } catch (InvalidProtocolBufferException | JsonProcessingException e) {
      throw new ConfigStoreException(config.key() + ": spec cannot be written as JSON: " + e.getMessage(), e);
    }
    return r;
  }

  private Resource<GenericKubernetesResource> resource(Config config) {
    return client.genericKubernetesResources(context(config.meta().kind()))
        .inNamespace(config.meta().namespace())
        .resource(toResource(config));
  }

  @Override
  public String create(Config config) {
    checkWritable(config);
    try {
      GenericKubernetesResource created = resource(new Config(config.meta().withResourceVersion(""), config.spec())).create();
      return created.getMetadata().getResourceVersion();
    } catch (KubernetesClientException e) {
      throw failure(config.key(), "create", e);
    }
  }

  @Override
  public String update(Config config) {
    checkWritable(config);
    if (config.meta().resourceVersion().isEmpty()) {
      throw new ConfigStoreException(config.key() + ": update needs the resourceVersion of the version it replaces");
    }
    try {
      GenericKubernetesResource updated = resource(config).update();
      return updated.getMetadata().getResourceVersion();
    } catch (KubernetesClientException e) {
      throw failure(config.key(), "update", e);
    }
  }

  @Override
  public void delete(ConfigKind kind, String name, String ns) {
    String key = kind.type() + "/" + ns + "/" + name;
    if (!KINDS.contains(kind)) {
      throw new ConfigStoreException(key + ": this store does not hold " + kind.type());
    }
    List<StatusDetails> deleted;
    try {
      deleted = client.genericKubernetesResources(context(kind)).inNamespace(ns).withName(name).delete();
    } catch (KubernetesClientException e) {
      throw failure(key, "delete", e);
    }
    if (deleted.isEmpty()) {
      throw new ConfigStoreException(key + ": does not exist");
    }
  }

  private static ConfigStoreException failure(String key, String what, KubernetesClientException e) {
    String why = switch (e.getCode()) {
      case 404 -> "does not exist";
      case 409 -> what.equals("create") ? "already exists" : "old revision (it was changed since it was read)";
      default -> "the API server refused to " + what + " it: " + e.getMessage();
    };
    return new ConfigStoreException(key + ": " + why, e);
  }

  @Override
  public synchronized void close() {
    for (SharedIndexInformer<GenericKubernetesResource> i : informers.values()) {
      i.close();
    }
    if (ingressInformer != null) {
      ingressInformer.close();
    }
    if (secretInformer != null) {
      secretInformer.close();
    }
    events.shutdownNow();
    if (ownsClient) {
      client.close();
    }
  }
}

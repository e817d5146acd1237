package io.istio4j.pilot.discovery;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.ServiceRegistry;
import io.istio4j.pilot.registry.AggregateRegistry;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The JSON of {@code /debug/registryz} (every registry, its services and their instances),
 * {@code /debug/configz} (every config object, its state and, when rejected, why) and
 * {@code /debug/adsz} (every connected client, as the xDS server reports it) and {@code /debug/certz}
 * (mesh mutual TLS certificates).
 */
final class DebugPages {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Supplier<List<ServiceRegistry>> registries;
  private final PilotComponents.RegistryView view;
  private final Supplier<List<ConfigObjectStatus>> config;
  private final Supplier<String> configStore;
  private final Supplier<String> clients;
  private final Supplier<Readiness> readiness;
  private Supplier<@Nullable CertificateStatus> certificates = () -> null;

  DebugPages(Supplier<List<ServiceRegistry>> registries, PilotComponents.RegistryView view,
      Supplier<List<ConfigObjectStatus>> config,
      Supplier<String> configStore, Supplier<String> clients, Supplier<Readiness> readiness) {
    this.registries = registries;
    this.view = view;
    this.config = config;
    this.configStore = configStore;
    this.clients = clients;
    this.readiness = readiness;
  }

  DebugPages withCertificates(Supplier<@Nullable CertificateStatus> certificates) {
    this.certificates = certificates;
    return this;
  }

  /**
   * Mesh mutual TLS: the mode, the CA, and per identity the certificate's expiry and the last
   * error; the annotation errors of the last push. {@code {"enabled": false}} without {@code --caAddress}.
   */
  String certz() {
    CertificateStatus c = certificates.get();
    Map<String, Object> page = new LinkedHashMap<>();
    page.put("enabled", c != null);
    if (c == null) {
      page.put("reason", "mutual TLS is off (--caAddress not set)");
      return write(page);
    }
    page.put("mode", c.mode());
    page.put("ca", c.ca());
    page.put("issued", c.issued());
    page.put("failures", c.failures());
    TreeSet<String> ids = new TreeSet<>(c.expiries().keySet());
    ids.addAll(c.failing().keySet());
    List<Object> identities = new ArrayList<>();
    for (String id : ids) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("identity", id);
      Long at = c.expiries().get(id);
      e.put("expires", at == null ? null : Instant.ofEpochSecond(at).toString());
      // An expired certificate is no longer served: its proxies' TLS waits for a new one.
      e.put("expired", at != null && Instant.ofEpochSecond(at).isBefore(Instant.now()));
      e.put("lastError", c.failing().get(id));
      identities.add(e);
    }
    page.put("identities", identities);
    page.put("configErrors", c.configErrors());
    return write(page);
  }

  /**
   * Every registry with its services, then the conflicts: hostnames served by more than one
   * registry, with the one whose service is used (the first in {@code --registries}) and the ones
   * shadowed.
   */
  String registryz() {
    List<ServiceRegistry> regs = registries.get();
    List<Object> out = new ArrayList<>();
    for (ServiceRegistry r : regs) {
      out.add(view.describe(r));
    }
    Map<String, Object> page = new LinkedHashMap<>();
    page.put("registries", out);
    page.put("conflicts", AggregateRegistry.conflictsView(AggregateRegistry.conflicts(regs)));
    return write(page);
  }

  /** A registry's name, sync state, services and instances, sorted by hostname. */
  static Map<String, Object> describe(ServiceRegistry r) {
    Map<String, Object> reg = new LinkedHashMap<>();
    reg.put("name", r.name());
    reg.put("synced", r.hasSynced());
    List<Object> services = new ArrayList<>();
    List<Service> sorted = new ArrayList<>(r.services());
    sorted.sort(Comparator.comparing(Service::hostname));
    for (Service s : sorted) {
      services.add(service(r, s));
    }
    reg.put("services", services);
    return reg;
  }

  private static Map<String, Object> service(ServiceRegistry r, Service s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hostname", s.hostname());
    m.put("address", s.address());
    if (s.external()) {
      m.put("externalName", s.externalName());
    }
    List<Object> ports = new ArrayList<>();
    for (Port p : s.ports()) {
      ports.add(Map.of("name", p.name(), "port", p.port(), "protocol", p.protocol().name()));
    }
    m.put("ports", ports);
    if (!s.serviceAccounts().isEmpty()) {
      m.put("serviceAccounts", s.serviceAccounts());
    }
    List<Object> instances = new ArrayList<>();
    for (ServiceInstance i : r.instances(s.hostname(), Set.of(), LabelsCollection.ALL)) {
      Map<String, Object> im = new LinkedHashMap<>();
      im.put("address", i.endpoint().address());
      im.put("port", i.endpoint().port());
      im.put("servicePort", i.endpoint().servicePort().name());
      im.put("labels", i.labels().asMap());
      if (i.availabilityZone() != null) {
        im.put("availabilityZone", i.availabilityZone());
      }
      if (i.serviceAccount() != null) {
        im.put("serviceAccount", i.serviceAccount());
      }
      instances.add(im);
    }
    m.put("instances", instances);
    return m;
  }

  String configz() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("store", configStore.get());
    Readiness r = readiness.get();
    out.put("ready", r.ready());
    List<Object> objects = new ArrayList<>();
    int rejected = 0;
    for (ConfigObjectStatus s : config.get()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("key", s.key());
      m.put("state", s.state().name());
      if (s.source() != null) {
        m.put("source", s.source());
      }
      if (s.error() != null) {
        m.put("error", s.error());
      }
      if (s.state() != ConfigObjectStatus.State.VALID) {
        rejected++;
      }
      objects.add(m);
    }
    out.put("rejected", rejected);
    out.put("objects", objects);
    return write(out);
  }

  String adsz() {
    return clients.get();
  }

  static String write(Object value) {
    try {
      return JSON.writeValueAsString(value) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}

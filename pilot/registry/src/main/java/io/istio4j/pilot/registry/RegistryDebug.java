package io.istio4j.pilot.registry;

import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.ServiceRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A registry's content as plain maps and lists (JSON-able with any serializer), for
 * {@code /debug/registryz}.
 *
 * <pre>{@code
 * {"name": "file:/etc/istio/services", "synced": true, "status": {...},
 *  "services": [{"hostname": "reviews.default.svc.cluster.local", "address": "10.0.0.3",
 *                "ports": [{"name": "http", "port": 9080, "protocol": "HTTP"}],
 *                "serviceAccounts": [],
 *                "instances": [{"address": "10.1.0.7", "port": 9080, "portName": "http",
 *                               "labels": {"app": "reviews", "version": "v1"},
 *                               "availabilityZone": "us-east1/us-east1-b",
 *                               "serviceAccount": "spiffe://cluster.local/ns/default/sa/reviews"}]}]}
 * }</pre>
 */
public final class RegistryDebug {
  private RegistryDebug() {}

  /** Name, sync state and (when the registry reports one) its own status. */
  public static Map<String, Object> header(ServiceRegistry r) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", r.name());
    out.put("synced", r.hasSynced());
    if (r instanceof RegistryStatus s) {
      out.put("status", s.status());
    }
    return out;
  }

  /** {@link #header} plus every service with its instances. */
  public static Map<String, Object> describe(ServiceRegistry r) {
    Map<String, Object> out = header(r);
    List<Map<String, Object>> services = new ArrayList<>();
    for (Service s : r.services()) {
      services.add(service(s, r.instances(s.hostname(), Set.of(), LabelsCollection.ALL)));
    }
    out.put("services", services);
    return out;
  }

  static Map<String, Object> service(Service s, List<ServiceInstance> instances) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hostname", s.hostname());
    if (s.address() != null) {
      m.put("address", s.address());
    }
    if (s.external()) {
      m.put("externalName", s.externalName());
    }
    if (s.loadBalancingDisabled()) {
      m.put("loadBalancingDisabled", true);
    }
    List<Map<String, Object>> ports = new ArrayList<>();
    for (Port p : s.ports()) {
      ports.add(port(p));
    }
    m.put("ports", ports);
    m.put("serviceAccounts", s.serviceAccounts());
    List<Map<String, Object>> list = new ArrayList<>();
    for (ServiceInstance i : instances) {
      Map<String, Object> im = new LinkedHashMap<>();
      im.put("address", i.endpoint().address());
      im.put("port", i.endpoint().port());
      im.put("portName", i.endpoint().servicePort().name());
      im.put("labels", new LinkedHashMap<>(i.labels().asMap()));
      if (i.availabilityZone() != null) {
        im.put("availabilityZone", i.availabilityZone());
      }
      if (i.serviceAccount() != null) {
        im.put("serviceAccount", i.serviceAccount());
      }
      list.add(im);
    }
    m.put("instances", list);
    return m;
  }

  private static Map<String, Object> port(Port p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", p.name());
    m.put("port", p.port());
    m.put("protocol", p.protocol().wireName());
    return m;
  }
}

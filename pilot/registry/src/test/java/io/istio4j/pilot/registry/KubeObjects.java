package io.istio4j.pilot.registry;

import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import java.util.Map;

/** Kubernetes objects for tests, built with fabric8's builders. */
final class KubeObjects {
  private KubeObjects() {}

  static ServicePort port(String name, int port) {
    return new ServicePortBuilder().withName(name).withPort(port).withProtocol("TCP")
        .withTargetPort(new IntOrString(port)).build();
  }

  static Service service(String ns, String name, String clusterIp, ServicePort... ports) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace(ns).withName(name).endMetadata()
        .withNewSpec().withClusterIP(clusterIp).withType("ClusterIP").withPorts(ports).endSpec()
        .build();
  }

  /** Endpoints with one subset: these ready IPs on these {name, port} pairs. */
  static Endpoints endpoints(String ns, String name, String[] ips, Object... namesAndPorts) {
    EndpointsBuilder b = new EndpointsBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata();
    var subset = b.addNewSubset();
    for (String ip : ips) {
      subset.addNewAddress().withIp(ip).endAddress();
    }
    for (int i = 0; i < namesAndPorts.length; i += 2) {
      subset.addNewPort().withName((String) namesAndPorts[i]).withPort((Integer) namesAndPorts[i + 1])
          .withProtocol("TCP").endPort();
    }
    return subset.endSubset().build();
  }

  static Pod pod(String ns, String name, String ip, String node, String sa, Map<String, String> labels) {
    return new PodBuilder()
        .withNewMetadata().withNamespace(ns).withName(name).withLabels(labels).endMetadata()
        .withNewSpec().withNodeName(node).withServiceAccountName(sa)
        .addNewContainer().withName("app").withImage("app").endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).endStatus()
        .build();
  }

  static Node node(String name, Map<String, String> labels) {
    return new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build();
  }

  static Map<String, String> zoneLabels(String region, String zone) {
    return Map.of(KubernetesConversion.REGION_LABEL, region, KubernetesConversion.ZONE_LABEL, zone);
  }
}

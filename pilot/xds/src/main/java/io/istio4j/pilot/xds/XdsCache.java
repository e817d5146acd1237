package io.istio4j.pilot.xds;

import io.envoyproxy.controlplane.cache.NodeGroup;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.SimpleCache;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import java.util.Set;
import java.util.function.Consumer;

/**
 * java-control-plane's snapshot cache with one change: in ADS mode it waits until every requested
 * name exists only for routes and endpoints. For listeners and clusters, a state-of-the-world
 * response carries the requested resources that exist and the absence of a name means it was
 * removed (xDS protocol; grpc-java reads it so). The stock cache would instead stay silent, and a
 * gRPC client that still names a cluster a rule edit removed would never learn of the cluster
 * that replaced it (seen as "Timed out waiting for resource" in ProxylessGrpcIT).
 */
final class XdsCache extends SimpleCache<String, XdsSnapshot> {
  XdsCache(NodeGroup<String> groups) {
    super(groups);
  }

  @Override
  public Watch createWatch(boolean ads, XdsRequest request, Set<String> knownResourceNames,
      Consumer<Response> responseConsumer, boolean hasClusterChanged, boolean allowDefaultEmptyEdsUpdate) {
    Resources.ResourceType type = request.getResourceType();
    // Secrets too: an SDS request is answered once the certificate exists (Envoy waits for it).
    boolean waitForAll = ads && (type == Resources.ResourceType.ROUTE || type == Resources.ResourceType.ENDPOINT
        || type == Resources.ResourceType.SECRET);
    return super.createWatch(waitForAll, request, knownResourceNames, responseConsumer, hasClusterChanged,
        allowDefaultEmptyEdsUpdate);
  }
}

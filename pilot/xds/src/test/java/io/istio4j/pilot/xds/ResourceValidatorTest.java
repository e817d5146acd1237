package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import org.junit.jupiter.api.Test;

/** The protoc-gen-validate rules read from the api jar's descriptors catch what Envoy would reject. */
class ResourceValidatorTest {
  @Test
  void reportsEmptyNamesNonPositiveDurationsAndZeroLocalityWeights() {
    Cluster c = Cluster.newBuilder().setName("").setConnectTimeout(Duration.newBuilder().setSeconds(0)).build();
    assertThat(ResourceValidator.validate(c)).anySatisfy(v -> assertThat(v).contains("connect_timeout").contains("expected > 0s"));
    ClusterLoadAssignment cla = ClusterLoadAssignment.newBuilder().setClusterName("x")
        .addEndpoints(LocalityLbEndpoints.newBuilder().setLoadBalancingWeight(UInt32Value.of(0))).build();
    assertThat(ResourceValidator.validate(cla)).singleElement()
        .satisfies(v -> assertThat(v).contains("endpoints[0].load_balancing_weight").contains("expected >= 1"));
    ClusterLoadAssignment unnamed = ClusterLoadAssignment.newBuilder().build();
    assertThat(ResourceValidator.validate(unnamed)).singleElement().satisfies(v -> assertThat(v).contains("cluster_name"));
  }

  @Test
  void looksInsideTypedConfigsAndRouteOneofs() {
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder().build(); // no stat_prefix, no route specifier
    Listener l = Listener.newBuilder().setName("svc:80")
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm))).build();
    assertThat(ResourceValidator.validate(l)).anySatisfy(v -> assertThat(v).contains("stat_prefix"))
        .anySatisfy(v -> assertThat(v).contains("route_specifier").contains("required"));
    Route route = Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/")
            .addHeaders(HeaderMatcher.newBuilder().setName("bad\nheader")))
        .setRoute(RouteAction.newBuilder().setCluster(""))
        .putTypedPerFilterConfig(Translator.FAULT_FILTER, Any.pack(HTTPFault.newBuilder()
            .setAbort(FaultAbort.newBuilder().setHttpStatus(42)).build()))
        .build();
    RouteConfiguration rc = RouteConfiguration.newBuilder().setName("80")
        .addVirtualHosts(VirtualHost.newBuilder().setName("v").addDomains("a").addRoutes(route)).build();
    assertThat(ResourceValidator.validate(rc))
        .anySatisfy(v -> assertThat(v).contains("headers[0].name").contains("HTTP_HEADER_NAME"))
        .anySatisfy(v -> assertThat(v).contains("route.cluster"))
        .anySatisfy(v -> assertThat(v).contains("abort.http_status").contains("expected >= 200"));
  }
}

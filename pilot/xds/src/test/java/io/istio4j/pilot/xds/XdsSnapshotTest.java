package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class XdsSnapshotTest {
  private static XdsSnapshot snapshot(List<XdsSnapshot.EdsChange> history) {
    return new XdsSnapshot(SnapshotResources.create(List.<VersionedResource<Cluster>>of(), ""), "c",
        SnapshotResources.create(List.<VersionedResource<ClusterLoadAssignment>>of(), ""), history.isEmpty() ? "e" : history.get(0).version(),
        SnapshotResources.create(List.<VersionedResource<Listener>>of(), ""), "l",
        SnapshotResources.create(List.<VersionedResource<RouteConfiguration>>of(), ""), "r", history);
  }

  @Test
  void aRequestsEndpointVersionIsThatOfTheLastChangeToAnAssignmentItNames() {
    XdsSnapshot s = snapshot(List.of(
        new XdsSnapshot.EdsChange("9", Set.of("a")),
        new XdsSnapshot.EdsChange("8", Set.of("b")),
        new XdsSnapshot.EdsChange("7", null),
        new XdsSnapshot.EdsChange("6", Set.of("c"))));
    // A client of "b" alone was not affected by the change to "a": it keeps its version and waits.
    assertThat(s.version(Resources.ResourceType.ENDPOINT, List.of("b"))).isEqualTo("8");
    assertThat(s.version(Resources.ResourceType.ENDPOINT, List.of("b", "a"))).isEqualTo("9");
    // A change that may have touched anything (a full push) counts for every name.
    assertThat(s.version(Resources.ResourceType.ENDPOINT, List.of("c"))).isEqualTo("7");
    // Without names (wildcard, delta): the latest.
    assertThat(s.version(Resources.ResourceType.ENDPOINT, List.of())).isEqualTo("9");
    assertThat(s.version(Resources.ResourceType.CLUSTER, List.of("b"))).isEqualTo("c");
  }

  @Test
  void aLargeChangeIsMatchedToo() {
    XdsSnapshot s = snapshot(List.of(
        new XdsSnapshot.EdsChange("3", Set.of("a", "b", "c", "d", "e", "f")),
        new XdsSnapshot.EdsChange("2", Set.of("g"))));
    assertThat(s.version(Resources.ResourceType.ENDPOINT, List.of("x", "f"))).isEqualTo("3");
    assertThat(s.version(Resources.ResourceType.ENDPOINT, List.of("x", "g"))).isEqualTo("2");
  }

  @Test
  void pastTheRememberedHistoryTheLatestVersionIsUsed() {
    List<XdsSnapshot.EdsChange> history = new ArrayList<>();
    for (int i = 40; i > 0; i--) {
      history.add(new XdsSnapshot.EdsChange(String.valueOf(i), Set.of("x" + i)));
    }
    XdsSnapshot s = snapshot(history);
    assertThat(s.version(Resources.ResourceType.ENDPOINT, List.of("never-changed"))).isEqualTo("40");
  }
}

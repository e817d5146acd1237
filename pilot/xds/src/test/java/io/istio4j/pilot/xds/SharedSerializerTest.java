package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.List;
import org.junit.jupiter.api.Test;

class SharedSerializerTest {
  private static ClusterLoadAssignment cla(String name) {
    return ClusterLoadAssignment.newBuilder().setClusterName(name).build();
  }

  @Test
  void equalResourcesShareOnePackedInstance() throws InvalidProtocolBufferException {
    SharedSerializer s = new SharedSerializer();
    Any a = s.serialize(cla("a"), Resources.ApiVersion.V3);
    assertThat(s.serialize(cla("a"), Resources.ApiVersion.V3)).isSameAs(a);
    assertThat(a.unpack(ClusterLoadAssignment.class)).isEqualTo(cla("a"));
    assertThat(s.serialize(List.of(cla("a"), cla("b")), Resources.ApiVersion.V3)).hasSize(2).first().isSameAs(a);
  }

  @Test
  void aResourceStillInUseSurvivesGenerationsAndOthersAreDropped() {
    SharedSerializer s = new SharedSerializer();
    Any kept = s.serialize(cla("kept"), Resources.ApiVersion.V3);
    Any dropped = s.serialize(cla("dropped"), Resources.ApiVersion.V3);
    // Churn of one-off resources (endpoint pushes between full pushes) ends several generations.
    for (int i = 0; i < 100_000; i++) {
      s.serialize(cla("churn-" + i), Resources.ApiVersion.V3);
      if (i % 1000 == 0) {
        assertThat(s.serialize(cla("kept"), Resources.ApiVersion.V3)).isSameAs(kept);
      }
    }
    assertThat(s.serialize(cla("kept"), Resources.ApiVersion.V3)).isSameAs(kept);
    assertThat(s.serialize(cla("dropped"), Resources.ApiVersion.V3)).isNotSameAs(dropped).isEqualTo(dropped);
  }
}

package io.istio4j.pilot.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourceJsonTest {

  @Test
  void clusterNamesPrintAsWrittenAndUnknownAnyTypesAreFoundByName() throws Exception {
    Cluster c = Cluster.newBuilder().setName("outbound|9080|version=v1|reviews.default.svc.cluster.local")
        .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            Any.pack(HttpProtocolOptions.getDefaultInstance()))
        .build();
    String json = new ResourceJson().array(List.of(Any.pack(c)));
    assertThat(json).contains("\"name\": \"outbound|9080|version=v1|reviews.default.svc.cluster.local\"")
        .contains("type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
    assertThat(new ResourceJson().print(TypedExtensionConfig.newBuilder().setName("a\\u003db").build()))
        .contains("a\\\\u003db");
  }

  @Test
  void onlyHtmlEscapesThatAreNotEscapedBackslashesAreUndone() {
    assertThat(ResourceJson.readable("\"a\\u003db\\u0026c\"")).isEqualTo("\"a=b&c\"");
    assertThat(ResourceJson.readable("\"a\\\\u003db\"")).isEqualTo("\"a\\\\u003db\"");
    assertThat(ResourceJson.readable("\"a\\\\\\u003db\"")).isEqualTo("\"a\\\\=b\"");
  }
}

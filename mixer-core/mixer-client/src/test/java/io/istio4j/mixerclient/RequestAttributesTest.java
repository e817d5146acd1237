package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestAttributesTest {

  @Test
  void headerMapsAreCappedInCountAndValueLength() {
    Metadata md = new Metadata();
    for (int i = 0; i < 10_000; i++) {
      md.put(Metadata.Key.of("x-h-" + i, Metadata.ASCII_STRING_MARSHALLER), "v");
    }
    md.put(Metadata.Key.of("x-bin", Metadata.BINARY_BYTE_MARSHALLER), new byte[] {1});
    Map<String, String> headers = RequestAttributes.asciiHeaders(md, Map.of(":path", "/a"));
    assertThat(headers).hasSize(RequestAttributes.MAX_HEADERS).containsEntry(":path", "/a");

    Map<String, String> servlet = new HashMap<>();
    RequestAttributes.putHeader(servlet, "X-Long", "x".repeat(100_000));
    RequestAttributes.putHeader(servlet, "Accept", "a");
    RequestAttributes.putHeader(servlet, "accept", "b");
    assertThat(servlet.get("x-long")).hasSize(RequestAttributes.MAX_HEADER_VALUE);
    assertThat(servlet).containsEntry("accept", "a,b");
  }

  @Test
  void addressesBecomeIpBytesAndPort() {
    Attributes.Builder b = Attributes.builder();
    RequestAttributes.putAddress(b, "source", new InetSocketAddress("10.1.2.3", 4567));
    Attributes a = b.build();
    assertThat((byte[]) a.get("source.ip")).containsExactly(10, 1, 2, 3);
    assertThat(a.get("source.port")).isEqualTo(4567L);
  }
}

package io.istio4j.pilot.xds;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What /debug/adsz shows about one connected client.
 *
 * @param nodeId the node id it sent
 * @param proxyType sidecar, ingress, egress or proxyless
 * @param group the snapshot group it shares (the node id, or {@code proxyless})
 * @param peer the remote address, when known
 * @param connectedSince ISO-8601 instant the stream opened
 * @param types per resource type (short name, e.g. {@code Cluster}) what was sent and ACKed
 * @param lastNack the latest rejection, or null
 */
public record ClientStatus(
    String nodeId,
    String proxyType,
    String group,
    String peer,
    String connectedSince,
    Map<String, TypeStatus> types,
    @Nullable Nack lastNack) {

  /**
   * One resource type's exchange.
   *
   * @param sentVersion version of the latest response
   * @param sentNonce nonce of the latest response
   * @param ackedVersion latest version the client accepted
   * @param ackedNonce nonce of that acceptance
   * @param nacks rejections of this type on this stream
   */
  public record TypeStatus(String sentVersion, String sentNonce, String ackedVersion, String ackedNonce, long nacks) {}

  /**
   * A rejected response.
   *
   * @param type short resource type
   * @param version the version the client still runs (the last it accepted)
   * @param nonce the nonce of the rejected response
   * @param resources the resource names the client asks for (first 20)
   * @param reason the client's error_detail message
   * @param at ISO-8601 instant
   */
  public record Nack(String type, String version, String nonce, List<String> resources, String reason, String at) {}
}

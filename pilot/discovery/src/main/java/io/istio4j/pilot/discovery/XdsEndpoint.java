package io.istio4j.pilot.discovery;

import io.grpc.ServerServiceDefinition;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.RegistryEvent;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the process needs from the xDS server (pilot/xds's {@code XdsServer}, behind a small adapter):
 * the gRPC services to bind, the change events that schedule pushes, the switch that starts serving
 * once registries and config have synced, and the numbers and per-client status the monitoring port
 * shows.
 */
public interface XdsEndpoint extends AutoCloseable {

  /** The gRPC services (ADS, and per-type discovery services if offered) to bind on {@code --grpcPort}. */
  List<ServerServiceDefinition> services();

  /** A registry changed: schedule a push to the clients it affects. */
  void onRegistryEvent(RegistryEvent event);

  /** A config object changed: schedule a push to the clients it affects. */
  void onConfigEvent(ConfigEvent event);

  /**
   * Every registry and the config store have synced: build the first snapshot and answer clients.
   * Before this, clients get nothing rather than a partial view (the 0.2 404 window).
   */
  void startServing();

  /** True once {@link #startServing} has built the first snapshot and clients are answered. */
  boolean serving();

  /** Counters for {@code /metrics}. */
  XdsStats stats();

  /** Mesh mutual TLS's certificates and errors; null when mutual TLS is off (no {@code --caAddress}). */
  default @Nullable CertificateStatus certificates() {
    return null;
  }

  /** Every connected client, its node and the version it ACKed of each type, as JSON for {@code /debug/adsz}. */
  String clientsJson();

  /** Stops pushing and releases threads; open streams are ended by the gRPC server's shutdown. */
  @Override
  void close();
}

package io.istio4j.pilot.xds;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * The mesh's mutual TLS settings.
 *
 * @param meshMode the mode of every port without an {@code auth.istio.io/<port>} annotation (mesh
 *     config {@code authPolicy}: MUTUAL_TLS is STRICT, NONE is DISABLE)
 * @param secrets where workload certificates come from, or null to serve no SDS secrets (ports
 *     that accept mutual TLS are then configured anyway and wait for their secrets)
 */
public record MeshSecurity(MtlsMode meshMode, @Nullable SecretSource secrets) {
  /** The annotation prefix of per-port modes on a service: {@code auth.istio.io/<port number>}. */
  public static final String PORT_ANNOTATION_PREFIX = "auth.istio.io/";
  /** The SDS secret with the workload's certificate chain and key (Istio's name). */
  public static final String WORKLOAD_SECRET = "default";
  /** The SDS secret with the root to validate peers against (Istio's name). */
  public static final String ROOT_SECRET = "ROOTCA";
  /**
   * The certificate-provider instance proxyless gRPC clients and servers must define in their
   * bootstrap ({@code certificate_providers}); its {@code default} certificate is the workload's,
   * its {@code ROOTCA} certificate the root.
   */
  public static final String PROXYLESS_PROVIDER_INSTANCE = "default";

  public MeshSecurity {
    requireNonNull(meshMode, "meshMode");
  }

  /**
   * Mutual TLS off: no TLS anywhere and {@code auth.istio.io/<port>} annotations ignored, because
   * nothing would deliver the certificates a TLS port needs (what Pilot does without a CA).
   */
  public static MeshSecurity disabled() {
    return new MeshSecurity(MtlsMode.DISABLE, null);
  }

  /** False for {@link #disabled()}: mode DISABLE and no secret source. */
  public boolean enabled() {
    return secrets != null || meshMode != MtlsMode.DISABLE;
  }
}

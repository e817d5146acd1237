package io.istio4j.pilot.xds;

import org.jspecify.annotations.Nullable;

/**
 * Where Pilot gets the workload certificates it serves over SDS (in pilot/discovery: the CA's
 * CreateCertificate API). Called on the push thread: must not block.
 */
public interface SecretSource {
  /**
   * The current certificate of this identity, or null while none is available (the source then
   * starts getting one and calls the change listener when it has it).
   */
  @Nullable WorkloadCertificate certificate(String spiffeId);

  /** Registers the callback run (on any thread) when a certificate was issued or renewed. */
  void onChange(Runnable listener);
}

package io.istio4j.adapter;

/**
 * An adapter compiled into Mixer, found with {@link java.util.ServiceLoader}: list the
 * implementation in {@code META-INF/services/io.istio4j.adapter.Adapter}. Mixer reads
 * {@link #info()} once at startup.
 *
 * <pre>{@code
 * public final class DenierAdapter implements Adapter {
 *   public AdapterInfo info() {
 *     return AdapterInfo.builder("denier")
 *         .description("Rejects any check and quota request with a configured status")
 *         .supportedTemplates("checknothing", "listentry", "quota")
 *         .defaultConfig(Params.getDefaultInstance())
 *         .builderFactory(Builder::new)
 *         .build();
 *   }
 * }
 * }</pre>
 */
public interface Adapter {

  /** What Mixer needs to know about this adapter. */
  AdapterInfo info();
}

package io.istio4j.adapter;

import com.google.protobuf.Message;

/**
 * Builds a {@link Handler} from an adapter's config. Mixer creates one builder per configured
 * handler and calls, in order: the template-specific {@code set<Name>Types} methods (the inferred
 * types of the instances bound to the handler), {@link #setAdapterConfig}, {@link #validate()},
 * and, when validate found nothing, {@link #build(Env)}. A builder also implements the generated
 * {@code <Name>HandlerBuilder} interface of every template its adapter supports.
 *
 * <pre>{@code
 * final class Builder implements CheckNothingHandlerBuilder<Params> {
 *   private Params params;
 *   public void setAdapterConfig(Params params) { this.params = params; }
 *   public ConfigErrors validate() {
 *     ConfigErrors errors = new ConfigErrors();
 *     if (params.getValidUseCount() < 0) {
 *       errors.add("validUseCount", "must be >= 0, got " + params.getValidUseCount());
 *     }
 *     return errors;
 *   }
 *   public Handler build(Env env) { return new DenyHandler(params); }
 * }
 * }</pre>
 *
 * @param <C> the adapter's config message
 */
public interface HandlerBuilder<C extends Message> {

  /** Gives the builder the handler's config, parsed from the handler object's {@code spec}. */
  void setAdapterConfig(C config);

  /** Checks the config; an empty result lets the handler be built. */
  ConfigErrors validate();

  /**
   * Builds the handler. Throw to reject the handler (the message is shown to the operator); the
   * rest of the config keeps working.
   */
  Handler build(Env env) throws Exception;
}

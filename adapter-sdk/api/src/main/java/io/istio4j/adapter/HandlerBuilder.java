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
   * rest of the config keeps working. Throw {@link IllegalArgumentException} when the config cannot
   * work on this server (a file the operator does not allow, a value only checkable here): such a
   * handler stays rejected until its config changes. Any other exception is taken as transient (a
   * port in use, a backend not reachable yet): Mixer builds the handler again later, after 1 s and
   * then doubling up to 60 s.
   */
  Handler build(Env env) throws Exception;
}

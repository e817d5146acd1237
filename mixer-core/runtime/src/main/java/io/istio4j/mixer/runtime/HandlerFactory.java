package io.istio4j.mixer.runtime;

import com.google.protobuf.Message;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.HandlerBuilder;
import io.istio4j.adapter.template.Template;
import java.util.Map;

/**
 * Builds handlers in upstream's order: check the builder implements every supported template's
 * builder interface, give it the inferred instance types per template, the adapter config,
 * validate, build, then check the handler implements every supported template's handler
 * interface. Anything an adapter throws becomes a {@link HandlerBuildException}; the runtime
 * never fails because one adapter did.
 *
 * <pre>{@code
 * Handler h = new HandlerFactory(templates).build("handler.denier.istio-system", denierInfo,
 *     params, Map.of("checknothing", Map.of("denyrequest.checknothing.istio-system", type)), env);
 * }</pre>
 */
public final class HandlerFactory {

  private final Templates templates;

  /** A factory for handlers of adapters whose templates are in {@code templates}. */
  public HandlerFactory(Templates templates) {
    this.templates = templates;
  }

  /**
   * Builds the handler {@code handlerName} of {@code adapter}.
   *
   * @param config the adapter config, a message of the adapter's default config type
   * @param typesByTemplate template name to (instance FQN to inferred type) for the instances
   *     bound to this handler
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public Handler build(
      String handlerName,
      AdapterInfo adapter,
      Message config,
      Map<String, ? extends Map<String, ?>> typesByTemplate,
      Env env)
      throws HandlerBuildException {
    String who = "handler '" + handlerName + "' (adapter '" + adapter.name() + "')";
    if (!config.getDescriptorForType().equals(adapter.defaultConfig().getDescriptorForType())) {
      throw new HandlerBuildException(who + ": config is a " + config.getDescriptorForType().getFullName()
          + ", expected " + adapter.defaultConfig().getDescriptorForType().getFullName());
    }
    for (String used : typesByTemplate.keySet()) {
      if (!adapter.supportedTemplates().contains(used)) {
        throw new HandlerBuildException(who + ": adapter '" + adapter.name()
            + "' does not support template '" + used + "' (it supports "
            + adapter.supportedTemplates() + ")");
      }
    }
    HandlerBuilder builder;
    try {
      builder = adapter.builderFactory().get();
    } catch (RuntimeException | LinkageError e) {
      throw new HandlerBuildException(who + ": creating the builder failed: " + e, e);
    }
    for (String name : adapter.supportedTemplates()) {
      Template t = template(name);
      if (!t.supports(builder)) {
        throw new HandlerBuildException("adapter '" + adapter.name() + "' supports template '" + name
            + "' but its builder " + builder.getClass().getName() + " does not implement "
            + t.builderType().getName());
      }
    }
    try {
      for (Map.Entry<String, ? extends Map<String, ?>> e : typesByTemplate.entrySet()) {
        template(e.getKey()).setTypes(builder, e.getValue());
      }
      builder.setAdapterConfig(config);
      ConfigErrors errors = builder.validate();
      if (errors != null && !errors.isEmpty()) {
        throw new HandlerBuildException(who + ": invalid config: " + errors);
      }
    } catch (HandlerBuildException e) {
      throw e;
    } catch (Exception | LinkageError | StackOverflowError e) {
      throw new HandlerBuildException(who + ": validation failed: " + e, e);
    }
    Handler handler;
    try {
      handler = builder.build(env);
    } catch (IllegalArgumentException e) {
      // The adapter refused the config for this server (e.g. a file outside --allowedOutputDir):
      // building it again cannot pass, so it is not retried.
      throw new HandlerBuildException(who + ": invalid config: " + e.getMessage(), e);
    } catch (Exception | LinkageError | StackOverflowError e) {
      // The config passed validation; what failed is the adapter's start-up (a port in use, a
      // backend not reachable yet), which may pass: the runtime builds it again later.
      throw HandlerBuildException.retryable(who + ": build failed: " + e, e);
    }
    if (handler == null) {
      throw new HandlerBuildException(who + ": the builder returned no handler");
    }
    for (String name : adapter.supportedTemplates()) {
      Template t = template(name);
      if (!t.supports(handler)) {
        closeQuietly(handler);
        throw new HandlerBuildException("adapter '" + adapter.name() + "' supports template '" + name
            + "' but its handler " + handler.getClass().getName() + " does not implement "
            + t.handlerType().getName() + " or " + t.asyncHandlerType().getName());
      }
    }
    return handler;
  }

  private Template template(String name) throws HandlerBuildException {
    return templates.get(name).orElseThrow(
        () -> new HandlerBuildException("template '" + name + "' is not in this build"));
  }

  private static void closeQuietly(Handler handler) {
    try {
      handler.close();
    } catch (Exception ignored) {
      // The handler is being rejected; its close failure changes nothing.
    }
  }
}

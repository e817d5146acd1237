package io.istio4j.adapter.template;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.HandlerBuilder;
import io.istio4j.adapter.Instance;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * A template as the runtime sees it. The template code generator writes one subclass per template
 * ({@code <Name>Template}) and lists it in {@code META-INF/services/io.istio4j.adapter.template.Template}.
 * Everything here runs without reflection: the subclass casts to the generated interfaces and
 * evaluates precompiled fields.
 */
public abstract class Template {

  private final String name;
  private final Variety variety;
  private final Class<? extends Handler> handlerType;
  private final Class<? extends Handler> asyncHandlerType;
  private final Class<?> builderType;
  private final Descriptor paramDescriptor;

  /**
   * @param name the template name, the config kind of its instances
   * @param variety what the template is for
   * @param handlerType the generated {@code <Name>Handler} interface
   * @param asyncHandlerType the generated {@code <Name>AsyncHandler} interface
   * @param builderType the generated {@code <Name>HandlerBuilder} interface
   * @param paramDescriptor the instance-param message: every field an expression string
   */
  protected Template(
      String name,
      Variety variety,
      Class<? extends Handler> handlerType,
      Class<? extends Handler> asyncHandlerType,
      Class<?> builderType,
      Descriptor paramDescriptor) {
    this.name = requireNonNull(name, "name");
    this.variety = requireNonNull(variety, "variety");
    this.handlerType = requireNonNull(handlerType, "handlerType");
    this.asyncHandlerType = requireNonNull(asyncHandlerType, "asyncHandlerType");
    this.builderType = requireNonNull(builderType, "builderType");
    this.paramDescriptor = requireNonNull(paramDescriptor, "paramDescriptor");
  }

  /** The template name, for example {@code metric}; it is the config kind of its instances. */
  public final String name() {
    return name;
  }

  /** The variety. */
  public final Variety variety() {
    return variety;
  }

  /** The generated handler interface a handler must implement to receive these instances. */
  public final Class<? extends Handler> handlerType() {
    return handlerType;
  }

  /** The generated asynchronous handler interface, the alternative to {@link #handlerType()}. */
  public final Class<? extends Handler> asyncHandlerType() {
    return asyncHandlerType;
  }

  /** The generated builder interface a handler builder must implement. */
  public final Class<?> builderType() {
    return builderType;
  }

  /** The instance-param message that instance specs are read into. */
  public final Descriptor paramDescriptor() {
    return paramDescriptor;
  }

  /** An empty instance param, for parsing instance specs into. */
  public final Message defaultParam() {
    return DynamicMessage.getDefaultInstance(paramDescriptor);
  }

  /** True when {@code builder} implements this template's builder interface. */
  public final boolean supports(HandlerBuilder<?> builder) {
    return builderType.isInstance(builder);
  }

  /** True when {@code handler} implements this template's handler or asynchronous handler interface. */
  public final boolean supports(Handler handler) {
    return handlerType.isInstance(handler) || asyncHandlerType.isInstance(handler);
  }

  /**
   * True when {@code handler} implements the asynchronous interface: Mixer then calls the
   * {@code handle*Async} methods, which it prefers when a handler implements both.
   */
  public final boolean isAsync(Handler handler) {
    return asyncHandlerType.isInstance(handler);
  }

  /**
   * Type-checks and compiles an instance config. ValueType fields take their expression's type;
   * the other fields must be non-empty and have their declared type.
   *
   * @param instanceName the instance's fully qualified name
   * @param param the instance spec, a message of {@link #paramDescriptor()}
   * @param compiler compiles expressions against the attribute manifest
   * @throws InstanceConfigException naming the field and the problem
   */
  public abstract <B> CompiledInstance<B> compile(
      String instanceName, Message param, FieldCompiler<B> compiler) throws InstanceConfigException;

  /**
   * Tells a builder the inferred types of its instances of this template.
   *
   * @param types instance FQN to the {@code <Name>Type} of {@link CompiledInstance#type()}
   * @throws ClassCastException when the builder does not implement this template's interface
   */
  public abstract void setTypes(HandlerBuilder<?> builder, Map<String, ?> types);

  /** Sends a batch of REPORT instances to a handler. */
  public void handleReport(Handler handler, List<? extends Instance> instances) {
    throw new UnsupportedOperationException(name + " is a " + variety + " template, not REPORT");
  }

  /** Sends a CHECK instance to a handler. */
  public CheckResult handleCheck(Handler handler, Instance instance) {
    throw new UnsupportedOperationException(name + " is a " + variety + " template, not CHECK");
  }

  /** Sends a QUOTA instance to a handler. */
  public QuotaResult handleQuota(Handler handler, Instance instance, QuotaArgs args) {
    throw new UnsupportedOperationException(name + " is a " + variety + " template, not QUOTA");
  }

  /** Sends a batch of REPORT instances to an asynchronous handler. */
  public CompletionStage<Void> handleReportAsync(Handler handler, List<? extends Instance> instances) {
    throw new UnsupportedOperationException(name + " is a " + variety + " template, not REPORT");
  }

  /** Sends a CHECK instance to an asynchronous handler. */
  public CompletionStage<CheckResult> handleCheckAsync(Handler handler, Instance instance) {
    throw new UnsupportedOperationException(name + " is a " + variety + " template, not CHECK");
  }

  /** Sends a QUOTA instance to an asynchronous handler. */
  public CompletionStage<QuotaResult> handleQuotaAsync(Handler handler, Instance instance, QuotaArgs args) {
    throw new UnsupportedOperationException(name + " is a " + variety + " template, not QUOTA");
  }

  @Override
  public String toString() {
    return name + " (" + variety + ")";
  }
}

package io.istio4j.adapter;

import static java.lang.annotation.ElementType.CONSTRUCTOR;
import static java.lang.annotation.ElementType.FIELD;
import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.ElementType.PACKAGE;
import static java.lang.annotation.ElementType.TYPE;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Not API: public only so that istio4j's own modules can share it. It may change or disappear in
 * any release without notice; adapters and their tests must not use it.
 *
 * <p>On a package, it covers every type of the package; every package of {@code mixer-core}
 * ({@code io.istio4j.mixer.*}) is internal, since an adapter never depends on mixer-core (the build
 * enforces it) and reaches Mixer in its tests only through the test kit. A public API never
 * exposes an internal type: no public method of the SDK or the test kit takes or returns one,
 * except a member that is itself marked {@code @Internal}.
 *
 * <pre>{@code
 * @Internal
 * public final class HandlerFactory { ... }   // used by the runtime and the test kit, not by adapters
 * }</pre>
 *
 * <p>This follows grpc-java's {@code @Internal} and Armeria's {@code internal} packages.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({TYPE, PACKAGE, METHOD, CONSTRUCTOR, FIELD})
public @interface Internal {}

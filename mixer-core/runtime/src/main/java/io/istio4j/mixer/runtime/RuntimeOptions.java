package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.FileOutputPolicy;
import java.time.Duration;

/**
 * How the runtime resolves and dispatches.
 *
 * @param defaultNamespace the namespace whose rules apply to every request ({@code
 *     --configDefaultNamespace})
 * @param identityAttribute the attribute whose second dot-separated segment is the namespace of
 *     the request ({@code --configIdentityAttribute})
 * @param handlerTimeout how long the handler calls of one request may take
 * @param failurePolicy what a Check gets when a handler fails or an instance cannot be built
 * @param adapterWorkerPoolSize threads for blocking handlers
 * @param configPolicy what a config change with rejected objects does ({@code --configStrict})
 * @param fileOutputPolicy where handlers may write files ({@code --allowedOutputDir}); none by default
 */
public record RuntimeOptions(
    String defaultNamespace,
    String identityAttribute,
    Duration handlerTimeout,
    FailurePolicy failurePolicy,
    int adapterWorkerPoolSize,
    ConfigPolicy configPolicy,
    FileOutputPolicy fileOutputPolicy) {

  /** Upstream's defaults, fail-closed, 1 s handler deadline, 64 workers, no file output. */
  public static final RuntimeOptions DEFAULTS =
      new RuntimeOptions("istio-system", "destination.service", Duration.ofSeconds(1), FailurePolicy.CLOSED, 64);

  /** Checks the parts. */
  public RuntimeOptions {
    requireNonNull(defaultNamespace, "defaultNamespace");
    requireNonNull(identityAttribute, "identityAttribute");
    requireNonNull(handlerTimeout, "handlerTimeout");
    requireNonNull(failurePolicy, "failurePolicy");
    if (adapterWorkerPoolSize < 1) {
      throw new IllegalArgumentException("adapterWorkerPoolSize: " + adapterWorkerPoolSize + " (expected: >= 1)");
    }
    requireNonNull(configPolicy, "configPolicy");
    requireNonNull(fileOutputPolicy, "fileOutputPolicy");
  }

  /** Options that keep the last good version of rejected objects and allow no file output. */
  public RuntimeOptions(String defaultNamespace, String identityAttribute, Duration handlerTimeout,
      FailurePolicy failurePolicy, int adapterWorkerPoolSize) {
    this(defaultNamespace, identityAttribute, handlerTimeout, failurePolicy, adapterWorkerPoolSize,
        ConfigPolicy.LAST_KNOWN_GOOD, FileOutputPolicy.none());
  }

  /** Options with a config policy, allowing no file output. */
  public RuntimeOptions(String defaultNamespace, String identityAttribute, Duration handlerTimeout,
      FailurePolicy failurePolicy, int adapterWorkerPoolSize, ConfigPolicy configPolicy) {
    this(defaultNamespace, identityAttribute, handlerTimeout, failurePolicy, adapterWorkerPoolSize, configPolicy,
        FileOutputPolicy.none());
  }

  /** A copy with another default namespace. */
  public RuntimeOptions withDefaultNamespace(String namespace) {
    return new RuntimeOptions(namespace, identityAttribute, handlerTimeout, failurePolicy, adapterWorkerPoolSize,
        configPolicy, fileOutputPolicy);
  }

  /** A copy with another config policy. */
  public RuntimeOptions withConfigPolicy(ConfigPolicy policy) {
    return new RuntimeOptions(defaultNamespace, identityAttribute, handlerTimeout, failurePolicy,
        adapterWorkerPoolSize, policy, fileOutputPolicy);
  }

  /** A copy with another file output policy. */
  public RuntimeOptions withFileOutputPolicy(FileOutputPolicy policy) {
    return new RuntimeOptions(defaultNamespace, identityAttribute, handlerTimeout, failurePolicy,
        adapterWorkerPoolSize, configPolicy, policy);
  }

  /** What a config change with rejected objects does. Either way an object's problem is reported. */
  public enum ConfigPolicy {
    /**
     * The rest applies; a rejected edit of an object in use keeps that object's last good version
     * in use, and a rejected new object is left out.
     */
    LAST_KNOWN_GOOD,
    /**
     * Nothing of the change applies while any object is rejected: the first config must be clean
     * for Mixer to become ready, and a later change with a rejection keeps the whole previous
     * snapshot ({@code --configStrict}).
     */
    STRICT
  }

  /**
   * What a Check answers when a handler throws, misses its deadline, or an instance for it cannot
   * be built. Either way the answer is not cacheable (valid for 0 s and 0 uses).
   */
  public enum FailurePolicy {
    /** Deny: status INTERNAL naming the handler and the failure. Clients that fail open still allow. */
    CLOSED,
    /** Allow: status OK, as Mixer 0.2/0.3 effectively did. */
    OPEN
  }
}

package io.istio4j.adapters.list;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Duration;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapters.list.config.Params;
import io.istio4j.template.listentry.ListEntryHandler;

/**
 * The {@code listchecker} adapter: checks listentry values against a whitelist or a blacklist of
 * strings, case-insensitive strings, IP ranges or RE2 regular expressions, made of static {@code
 * overrides} and a list fetched from {@code providerUrl} and refreshed periodically.
 *
 * <pre>{@code
 * apiVersion: config.istio.io/v1alpha2
 * kind: listchecker
 * metadata: {name: staticversion, namespace: istio-system}
 * spec:
 *   overrides: ["v1", "v2"]
 *   blacklist: false
 * }</pre>
 */
public final class ListAdapter implements Adapter {

  /** The adapter's name, the {@code kind} of its handlers. */
  public static final String NAME = "listchecker";

  /** Upstream's defaults: refresh 60s, ttl 300s, caching 300s and 10000 uses, STRINGS, whitelist. */
  public static final Params DEFAULT_CONFIG = Params.newBuilder()
      .setRefreshInterval(Duration.newBuilder().setSeconds(60))
      .setTtl(Duration.newBuilder().setSeconds(300))
      .setCachingInterval(Duration.newBuilder().setSeconds(300))
      .setCachingUseCount(10_000)
      .setEntryType(Params.ListEntryType.STRINGS)
      .setBlacklist(false)
      .build();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder(NAME)
        .description("Checks whether a value is on a whitelist or blacklist of strings, IP ranges or regular expressions")
        .supportedTemplates("listentry")
        .defaultConfig(DEFAULT_CONFIG)
        .builderFactory(ListBuilder::new)
        .build();
  }

  /**
   * Validates {@code params} and builds a handler; with a {@code providerUrl}, its first fetch is
   * scheduled on {@code env} ({@link Env#scheduleWork}) and values not among the overrides are
   * answered UNAVAILABLE until it completes. The params are used as given: start from {@link #DEFAULT_CONFIG}. For embedding
   * the list checker without Mixer's config, and for benchmarks of {@link
   * ListEntryHandler#handleListEntry}.
   *
   * <pre>{@code
   * ListEntryHandler versions = ListAdapter.newHandler(
   *     ListAdapter.DEFAULT_CONFIG.toBuilder().addOverrides("v1").addOverrides("v2").build(), env);
   * CheckResult r = versions.handleListEntry(new ListEntryInstance("appversion.listentry.istio-system", "v3"));
   * }</pre>
   *
   * @throws IllegalArgumentException listing the config errors
   */
  public static ListEntryHandler newHandler(Params params, Env env) {
    requireNonNull(params, "params");
    requireNonNull(env, "env");
    ListBuilder builder = new ListBuilder();
    builder.setAdapterConfig(params);
    ConfigErrors errors = builder.validate();
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid listchecker config: " + errors);
    }
    return builder.build(env);
  }
}

package io.istio4j.adapters.list;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Redaction;
import io.istio4j.adapters.list.config.Params;
import io.istio4j.adapters.list.config.Params.ListEntryType;
import io.istio4j.template.listentry.ListEntryHandlerBuilder;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;

/**
 * Validates a listchecker config and builds its handler. Neither touches the network: validation
 * only reads the config (no DNS lookup of the provider's host), and building starts the first
 * fetch in the background ({@link Env#scheduleWork}) and schedules a refresh every {@code
 * refreshInterval}, so a slow or unreachable provider never holds up a config change (upstream
 * fetched synchronously in Build). Until the first fetch completes the handler answers as when its
 * fetched list is missing: overrides as usual, other values UNAVAILABLE. A failed first fetch does
 * not fail the build either: the handler keeps retrying, as upstream did.
 */
final class ListBuilder implements ListEntryHandlerBuilder<Params> {

  private static final Duration MIN_REFRESH = Duration.ofSeconds(1);

  private Params params;

  @Override
  public void setAdapterConfig(Params config) {
    this.params = requireNonNull(config, "config");
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    String url = params.getProviderUrl();
    if (!url.isEmpty()) {
      if (!isHttpUrl(url)) {
        errors.add("providerUrl", Redaction.redactUserInfo(url) + " (expected: an http or https URL with a host, for example "
            + "https://lists.example.com/versions.txt)");
      }
      Duration refresh = duration(params.getRefreshInterval());
      Duration ttl = duration(params.getTtl());
      if (refresh.compareTo(MIN_REFRESH) < 0) {
        errors.add("refreshInterval", format(refresh) + " (expected: >= 1s)");
      }
      if (ttl.compareTo(refresh) < 0) {
        errors.add("ttl", format(ttl) + " (expected: >= refreshInterval " + format(refresh) + ")");
      }
    }
    Duration caching = duration(params.getCachingInterval());
    if (caching.isNegative()) {
      errors.add("cachingInterval", format(caching) + " (expected: >= 0s)");
    }
    if (params.getCachingUseCount() < 0) {
      errors.add("cachingUseCount", params.getCachingUseCount() + " (expected: >= 0)");
    }
    ListEntryType type = params.getEntryType();
    if (type == ListEntryType.UNRECOGNIZED) {
      errors.add("entryType", params.getEntryTypeValue()
          + " (expected: STRINGS, CASE_INSENSITIVE_STRINGS, IP_ADDRESSES or REGEX)");
      return errors;
    }
    for (int i = 0; i < params.getOverridesCount(); i++) {
      String problem = EntryIndex.problem(type, params.getOverrides(i));
      if (problem != null) {
        errors.add("overrides[" + i + "]", problem);
      }
    }
    return errors;
  }

  @Override
  public ListHandler build(Env env) {
    ListHandler handler = new ListHandler(params, env);
    if (handler.fetchesList()) {
      env.scheduleWork(handler::start);
      Duration refresh = duration(params.getRefreshInterval());
      env.scheduleAtFixedRate(handler::refresh, refresh, refresh);
    }
    return handler;
  }

  private static boolean isHttpUrl(String url) {
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme();
      return scheme != null
          && (scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
          && uri.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  /** Durations close to how config writes them: {@code 1s}, {@code 0.5s}, {@code 5m}. */
  static String format(Duration d) {
    return d.toString().substring(2).toLowerCase(Locale.ROOT);
  }
}

package io.istio4j.adapters.list;

import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.LogText;
import io.istio4j.adapter.Redaction;
import io.istio4j.adapter.Status;
import io.istio4j.adapters.list.config.Params;
import io.istio4j.adapters.list.config.Params.ListEntryType;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryInstance;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;

/**
 * A listchecker handler: answers listentry checks from an immutable {@link EntryIndex} that it
 * replaces as a whole when a fetch brings a new list. Lookups read one volatile field and never
 * lock.
 *
 * <p>The list is the overrides plus, with a {@code providerUrl}, the last body fetched from it. A
 * fetched list stays in use while refreshes fail, until it is {@code ttl} old; then it is dropped
 * and, until a fetch succeeds again, values that are not among the overrides are answered
 * UNAVAILABLE with the fetch error (never OK by default, for a whitelist or a blacklist). Before the
 * first successful fetch the same holds, including while the first fetch, started in the
 * background when the handler is built, is still running.
 */
final class ListHandler implements ListEntryHandler {

  private final URI providerUrl;
  /** The provider URL as logs, metrics labels and error messages show it: without user-info. */
  private final String provider;
  private final ListEntryType type;
  private final boolean blacklist;
  private final List<String> overrides;
  private final Duration ttl;
  private final Duration validDuration;
  private final int validUseCount;
  private final Duration unavailableValidDuration;
  private final CheckResult ok;
  private final Clock clock;
  private final Logger log;
  private final Counter fetches;
  private final AtomicBoolean fetching = new AtomicBoolean();
  private final EntryIndex overridesOnly;
  /** Completes once the first fetch has ended, with a list or an error. */
  private final CompletableFuture<Void> started = new CompletableFuture<>();

  private volatile ListState state;
  /** The last fetch failure logged at WARN; refreshes never overlap, so a plain field does. */
  private String lastError;
  private volatile boolean closed;

  /**
   * What lookups read.
   *
   * @param index the entries
   * @param complete true when the index holds a fetched list (always true without a providerUrl)
   * @param fetchedAt when the fetched list was last confirmed by the provider; null before that
   * @param digest the SHA-1 of the fetched body, to skip parsing an unchanged one
   * @param error why the fetched list is missing; null when complete
   */
  private record ListState(
      EntryIndex index, boolean complete, Instant fetchedAt, String digest, String error) {}

  ListHandler(Params params, Env env) {
    String url = params.getProviderUrl();
    this.providerUrl = url.isEmpty() ? null : URI.create(url);
    this.provider = Redaction.redactUserInfo(url);
    this.type = params.getEntryType();
    this.blacklist = params.getBlacklist();
    this.overrides = List.copyOf(params.getOverridesList());
    this.ttl = ListBuilder.duration(params.getTtl());
    this.validDuration = ListBuilder.duration(params.getCachingInterval());
    this.validUseCount = params.getCachingUseCount();
    Duration refresh = ListBuilder.duration(params.getRefreshInterval());
    // An UNAVAILABLE answer is only worth caching until the next fetch may have fixed it.
    this.unavailableValidDuration = refresh.compareTo(validDuration) < 0 ? refresh : validDuration;
    this.ok = CheckResult.of(Status.OK, validDuration, validUseCount);
    this.clock = env.clock();
    this.log = env.logger();
    this.fetches = env.metrics().counter("listchecker_fetches",
        "Fetches of listchecker lists by provider URL and result (ok, unchanged, error)", "provider_url", "result");
    this.overridesOnly = EntryIndex.of(type, overrides);
    this.state = providerUrl == null
        ? new ListState(overridesOnly, true, null, null, null)
        : new ListState(overridesOnly, false, null, null, "the list from " + provider + " has not been fetched yet");
  }

  /**
   * Runs the first fetch: what the builder schedules, off the config thread, so that a config
   * change never waits on the provider (nor on the DNS lookup of its host).
   */
  void start() {
    refresh().whenComplete((v, e) -> started.complete(null));
  }

  /** Completes once the first fetch has ended (with a list or an error); for tests. */
  CompletableFuture<Void> started() {
    return started;
  }

  /** True when the handler fetches its list and so needs {@link #refresh()} called periodically. */
  boolean fetchesList() {
    return providerUrl != null;
  }

  @Override
  public CheckResult handleListEntry(ListEntryInstance instance) {
    String value = instance.value();
    ListState s = state;
    switch (s.index().match(value)) {
      case FOUND:
        return blacklist ? result(Status.Code.PERMISSION_DENIED, value + " is blacklisted") : ok;
      case INVALID:
        return result(Status.Code.INVALID_ARGUMENT, value + " is not a valid IP address");
      default:
        if (!s.complete()) {
          return CheckResult.of(Status.of(Status.Code.UNAVAILABLE, "cannot check " + value + ": " + s.error()),
              unavailableValidDuration, validUseCount);
        }
        return blacklist ? ok : result(Status.Code.NOT_FOUND, value + " is not whitelisted");
    }
  }

  private CheckResult result(Status.Code code, String message) {
    return CheckResult.of(Status.of(code, message), validDuration, validUseCount);
  }

  /**
   * Fetches the list once and installs it, or records the failure (dropping the fetched list once
   * it is older than the ttl). Does nothing while a previous fetch is still running. The future
   * completes when the new state is in place; it never fails.
   */
  CompletableFuture<Void> refresh() {
    if (providerUrl == null || closed || !fetching.compareAndSet(false, true)) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<byte[]> fetch;
    try {
      fetch = ListProvider.fetch(providerUrl);
    } catch (RuntimeException e) { // IllegalArgumentException for a URL HttpClient refuses
      fetch = CompletableFuture.failedFuture(e);
    }
    return fetch.handle((body, error) -> {
      try {
        if (!closed) {
          if (error != null) {
            failed("fetching " + provider + " failed: " + Redaction.redactUserInfo(ListProvider.describe(error)));
          } else {
            loaded(body);
          }
        }
      } catch (RuntimeException e) {
        log.error("updating the list from {} failed", provider, e);
      } finally {
        fetching.set(false);
      }
      return null;
    });
  }

  private void loaded(byte[] body) {
    ListState s = state;
    String digest = sha1(body);
    Instant now = clock.instant();
    if (s.complete() && digest.equals(s.digest())) {
      state = new ListState(s.index(), true, now, digest, null);
      fetches.labelValues(provider, "unchanged").inc();
      return;
    }
    EntryIndex index;
    try {
      List<String> entries = new ArrayList<>(ListBody.entries(new String(body, StandardCharsets.UTF_8), type));
      entries.addAll(overrides);
      index = EntryIndex.of(type, entries);
    } catch (IllegalArgumentException e) {
      failed("the list from " + provider + " is invalid: " + LogText.escape(e.getMessage()));
      return;
    }
    state = new ListState(index, true, now, digest, null);
    lastError = null;
    fetches.labelValues(provider, "ok").inc();
    log.info("loaded {} entries ({} from {}, {} overrides)",
        index.size(), index.size() - overrides.size(), provider, overrides.size());
  }

  private void failed(String error) {
    fetches.labelValues(provider, "error").inc();
    ListState s = state;
    Instant now = clock.instant();
    // A provider that stays down would otherwise warn at every refresh (every second at most):
    // one WARN per distinct failure, the rest at DEBUG; listchecker_fetches counts every one.
    boolean repeated = error.equals(lastError);
    lastError = error;
    if (s.complete() && Duration.between(s.fetchedAt(), now).compareTo(ttl) < 0) {
      if (repeated) {
        log.debug("{}; keeping the list fetched at {} until {}", error, s.fetchedAt(), s.fetchedAt().plus(ttl));
      } else {
        log.warn("{}; keeping the list fetched at {} until {}", error, s.fetchedAt(), s.fetchedAt().plus(ttl));
      }
      return;
    }
    if (s.complete()) {
      log.warn("{}; dropping the list fetched at {} (ttl {}): values not among the {} overrides are answered UNAVAILABLE",
          error, s.fetchedAt(), ListBuilder.format(ttl), overrides.size());
    } else if (repeated) {
      log.debug("{}; values not among the {} overrides are answered UNAVAILABLE", error, overrides.size());
    } else {
      log.warn("{}; values not among the {} overrides are answered UNAVAILABLE", error, overrides.size());
    }
    state = new ListState(overridesOnly, false, s.fetchedAt(), null, error);
  }

  private static String sha1(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(body));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-1", e);
    }
  }

  /** Stops installing fetched lists; Mixer's Env cancels the scheduled refreshes. */
  @Override
  public void close() {
    closed = true;
  }
}

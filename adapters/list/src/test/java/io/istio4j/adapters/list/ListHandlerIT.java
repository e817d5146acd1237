package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapter.testkit.TestEnv.ScheduledTask;
import io.istio4j.adapters.list.config.Params;
import io.istio4j.adapters.list.config.Params.ListEntryType;
import io.istio4j.template.listentry.ListEntryInstance;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

/**
 * Handlers whose list comes from a real HTTP server on a free port. The first fetch, which building
 * schedules, is run by {@link TestEnv#runDue()}; refreshes are run by calling {@link
 * ListHandler#refresh()} and the ttl is crossed by moving the {@link TestEnv} clock, so no test
 * sleeps.
 */
@Timeout(60)
class ListHandlerIT {

  private final TestEnv env = TestEnv.create();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private ListServer server(String body) {
    ListServer s = new ListServer(body);
    closeables.add(s);
    return s;
  }

  /** A handler whose first fetch has ended. */
  private ListHandler handler(String url, ListEntryType type, boolean blacklist, String... overrides) {
    ListHandler h = built(url, type, blacklist, overrides);
    start(h);
    return h;
  }

  /** Runs the first fetch the build scheduled, and waits until it ends. */
  private void start(ListHandler h) {
    assertThat(env.runDue()).isEqualTo(1);
    h.started().join();
  }

  /** A handler as building leaves it: its first fetch scheduled, not run. */
  private ListHandler built(String url, ListEntryType type, boolean blacklist, String... overrides) {
    Params.Builder b = ListAdapter.DEFAULT_CONFIG.toBuilder()
        .setProviderUrl(url).setEntryType(type).setBlacklist(blacklist);
    for (String o : overrides) {
      b.addOverrides(o);
    }
    ListHandler h = (ListHandler) ListAdapter.newHandler(b.build(), env);
    closeables.add(h);
    return h;
  }

  private static Status check(ListHandler h, String value) {
    return h.handleListEntry(new ListEntryInstance("appversion.listentry.istio-system", value)).status();
  }

  private static void awaitRequests(ListServer server, int n) {
    for (int i = 0; i < 1000 && server.requests() < n; i++) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    assertThat(server.requests()).isEqualTo(n);
  }

  private static void refresh(ListHandler h) {
    h.refresh().join();
  }

  /** The value of listchecker_fetches for a result, summed over provider URLs; 0 if never counted. */
  private double fetches(String result) {
    return env.counterValue("listchecker_fetches", "result", result);
  }

  @Test
  void buildSchedulesTheFirstFetchInTheBackgroundAndRefreshesEveryRefreshInterval() {
    ListServer server = server("v1\nv2\n\n");
    ListHandler h = built(server.url(), ListEntryType.STRINGS, false, "canary");

    assertThat(server.requests()).as("building does not touch the network").isZero();
    assertThat(check(h, "canary")).isEqualTo(Status.OK);
    assertThat(check(h, "v1")).isEqualTo(Status.of(Status.Code.UNAVAILABLE,
        "cannot check v1: the list from " + server.url() + " has not been fetched yet"));
    assertThat(env.scheduled()).extracting(ScheduledTask::kind)
        .containsExactly(ScheduledTask.Kind.WORK, ScheduledTask.Kind.PERIODIC);

    start(h);
    assertThat(server.requests()).isEqualTo(1);
    assertThat(check(h, "v1")).isEqualTo(Status.OK);
    assertThat(check(h, "v2")).isEqualTo(Status.OK);
    assertThat(check(h, "v3")).isEqualTo(Status.of(Status.Code.NOT_FOUND, "v3 is not whitelisted"));
    assertThat(check(h, "")).isEqualTo(Status.of(Status.Code.NOT_FOUND, " is not whitelisted"));
    ScheduledTask periodic = env.scheduled().get(1);
    assertThat(periodic.delay()).isEqualTo(Duration.ofSeconds(60));
    assertThat(periodic.period()).isEqualTo(Duration.ofSeconds(60));

    periodic.run(); // what the scheduler runs; it does not wait for the response
    awaitRequests(server, 2);
  }

  @Test
  void aRefreshInstallsTheChangedListAndOverridesStayOnIt() {
    ListServer server = server("v1\n");
    ListHandler h = handler(server.url(), ListEntryType.STRINGS, false, "canary");
    assertThat(check(h, "v2").code()).isEqualTo(Status.Code.NOT_FOUND);

    server.serve("v2\n");
    refresh(h);

    assertThat(check(h, "v2")).isEqualTo(Status.OK);
    assertThat(check(h, "v1").code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(check(h, "canary")).isEqualTo(Status.OK);
    assertThat(fetches("ok")).isEqualTo(2);
  }

  @Test
  void anUnchangedBodyIsNotParsedAgainButRenewsTheTtl() {
    ListServer server = server("v1\n");
    ListHandler h = handler(server.url(), ListEntryType.STRINGS, false);

    env.advance(Duration.ofSeconds(200));
    refresh(h);
    assertThat(fetches("unchanged")).isEqualTo(1);

    server.fail(500);
    env.advance(Duration.ofSeconds(250)); // 450s after the first fetch, 250s after the confirmation
    refresh(h);
    assertThat(check(h, "v1")).isEqualTo(Status.OK);

    env.advance(Duration.ofSeconds(50)); // 300s after the confirmation
    refresh(h);
    assertThat(check(h, "v1").code()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void aFailingProviderKeepsTheListUntilTheTtlThenChecksAreUnavailable() {
    ListServer server = server("v1\n");
    ListHandler h = handler(server.url(), ListEntryType.STRINGS, false, "v2");
    server.fail(500);

    env.advance(Duration.ofSeconds(60));
    refresh(h);
    env.advance(Duration.ofSeconds(239));
    refresh(h);
    assertThat(check(h, "v1")).isEqualTo(Status.OK);
    assertThat(check(h, "v3").code()).isEqualTo(Status.Code.NOT_FOUND);

    env.advance(Duration.ofSeconds(1)); // the list is 300s old: the ttl
    refresh(h);

    Status purged = check(h, "v1");
    assertThat(purged.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(purged.message())
        .isEqualTo("cannot check v1: fetching " + server.url() + " failed: HTTP status 500");
    assertThat(check(h, "v2")).isEqualTo(Status.OK); // overrides still answer
    assertThat(fetches("error")).isEqualTo(3);
  }

  @Test
  void unavailableAnswersAreCachedNoLongerThanTheRefreshInterval() {
    ListServer server = server("v1\n");
    server.fail(503);
    ListHandler h = handler(server.url(), ListEntryType.STRINGS, false);
    CheckResult r = h.handleListEntry(new ListEntryInstance("appversion.listentry.istio-system", "v1"));
    assertThat(r.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(r.validDuration()).isEqualTo(Duration.ofSeconds(60));
    assertThat(r.validUseCount()).isEqualTo(10_000);
  }

  @Test
  void theListComesBackWhenTheProviderRecovers() {
    ListServer server = server("v1\n");
    ListHandler h = handler(server.url(), ListEntryType.STRINGS, false);
    server.fail(500);
    env.advance(Duration.ofSeconds(300));
    refresh(h);
    assertThat(check(h, "v1").code()).isEqualTo(Status.Code.UNAVAILABLE);

    server.serve("v1\n"); // the same body as before the purge: installed again, not skipped as unchanged
    env.advance(Duration.ofSeconds(60));
    refresh(h);

    assertThat(check(h, "v1")).isEqualTo(Status.OK);
    assertThat(check(h, "v3").code()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void aStoppedProviderIsAFetchError() {
    ListServer server = server("10.0.0.0/8\n");
    ListHandler h = handler(server.url(), ListEntryType.IP_ADDRESSES, true);
    assertThat(check(h, "10.1.1.1").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    server.close();

    env.advance(Duration.ofSeconds(300));
    refresh(h);

    Status s = check(h, "10.1.1.1");
    assertThat(s.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.message()).startsWith("cannot check 10.1.1.1: fetching " + server.url() + " failed: ")
        .endsWith("failed: cannot connect (connection refused or host unreachable)");
  }

  @Test
  void credentialsInTheProviderUrlAppearNowhere() {
    ListServer server = server("v1\n");
    String url = server.url().replace("http://", "http://reader:s3cret@");
    String shown = server.url().replace("http://", "http://***@");
    ListHandler h = handler(url, ListEntryType.STRINGS, false);
    server.close();
    for (int i = 0; i < 3; i++) {
      env.advance(Duration.ofSeconds(300));
      refresh(h);
    }

    assertThat(env.counterValue("listchecker_fetches", "provider_url", shown)).isEqualTo(4);
    assertThat(check(h, "v2").message()).startsWith("cannot check v2: fetching " + shown + " failed: ");
    assertThat(env.logged()).isNotEmpty().allSatisfy(l -> assertThat(l.message()).doesNotContain("s3cret"));
    assertThat(env.messages(Level.WARN))
        .as("one warning per distinct failure, not one per refresh").hasSize(1);
  }

  @Test
  void aBlacklistWhoseFirstFetchFailsStartsWithItsOverridesAndDeniesTheRest() {
    ListServer server = server("");
    server.fail(404);
    ListHandler h = handler(server.url(), ListEntryType.STRINGS, true, "mallory");

    assertThat(check(h, "mallory")).isEqualTo(Status.of(Status.Code.PERMISSION_DENIED, "mallory is blacklisted"));
    assertThat(check(h, "alice"))
        .isEqualTo(Status.of(Status.Code.UNAVAILABLE, "cannot check alice: fetching " + server.url() + " failed: HTTP status 404"));
    assertThat(env.scheduled()).extracting(ScheduledTask::kind)
        .containsExactly(ScheduledTask.Kind.WORK, ScheduledTask.Kind.PERIODIC); // and it keeps trying

    server.serve("eve\n");
    refresh(h);
    assertThat(check(h, "alice")).isEqualTo(Status.OK);
    assertThat(check(h, "eve").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "mallory").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void anInvalidBodyIsRejectedAndThePreviousListKept() {
    ListServer server = server("whitelist: [\"10.0.0.0/8\"]\n");
    ListHandler h = handler(server.url(), ListEntryType.IP_ADDRESSES, false);
    assertThat(check(h, "10.9.9.9")).isEqualTo(Status.OK);

    server.serve("whitelist: [\"10.0.0.0/8\", \"11.0.0.0/88\"]\n");
    refresh(h);
    assertThat(check(h, "10.9.9.9")).isEqualTo(Status.OK);
    assertThat(fetches("error")).isEqualTo(1);

    env.advance(Duration.ofSeconds(300));
    refresh(h);
    assertThat(check(h, "10.9.9.9").message()).isEqualTo("cannot check 10.9.9.9: the list from " + server.url()
        + " is invalid: 11.0.0.0/88 is not an IP address or CIDR range (expected: for example 10.0.0.0/8, 1.2.3.4 or 2001:db8::/32)");
  }

  @Test
  void ipListsInUpstreamYamlFormat() {
    ListServer server = server("whitelist: [\"10.0.0.0/8\", \"1.2.3.4\", \"2001:db8::/32\"]\n");
    ListHandler h = handler(server.url(), ListEntryType.IP_ADDRESSES, true, "192.168.0.0/16");

    assertThat(check(h, "10.20.30.40")).isEqualTo(Status.of(Status.Code.PERMISSION_DENIED, "10.20.30.40 is blacklisted"));
    assertThat(check(h, "1.2.3.4").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "1.2.3.5")).isEqualTo(Status.OK);
    assertThat(check(h, "2001:db8:1::1").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "192.168.7.7").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "::ffff:10.0.0.1").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "ratings")).isEqualTo(Status.of(Status.Code.INVALID_ARGUMENT, "ratings is not a valid IP address"));
  }

  @Test
  void regexAndCaseInsensitiveListsAreFetchedOnePerLine() {
    ListServer regexes = server("^/admin\r\n\\.php$\r\n");
    ListHandler r = handler(regexes.url(), ListEntryType.REGEX, true);
    assertThat(check(r, "/admin/x").code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(r, "/x/admin")).isEqualTo(Status.OK);

    ListServer users = server("Alice\nBOB\n");
    ListHandler u = handler(users.url(), ListEntryType.CASE_INSENSITIVE_STRINGS, false);
    assertThat(check(u, "alice")).isEqualTo(Status.OK);
    assertThat(check(u, "bob")).isEqualTo(Status.OK);
    assertThat(check(u, "carol").code()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void buildNeverWaitsOnAProviderThatNeverAnswersAndTheFirstFetchTimesOut() throws IOException {
    // accepts connections (the backlog does) and never reads or writes
    ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    closeables.add(silent);
    String url = "http://127.0.0.1:" + silent.getLocalPort() + "/list";

    ListHandler h = built(url, ListEntryType.STRINGS, false, "v1");
    assertThat(check(h, "v1")).isEqualTo(Status.OK);
    assertThat(check(h, "v2").message()).isEqualTo("cannot check v2: the list from " + url + " has not been fetched yet");

    start(h); // ends within ListProvider.DEADLINE
    assertThat(check(h, "v1")).isEqualTo(Status.OK);
    Status s = check(h, "v2");
    assertThat(s.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.message()).startsWith("cannot check v2: fetching " + url + " failed: ").containsIgnoringCase("timed out");
  }

  @Test
  void aClosedHandlerFetchesNoMore() throws Exception {
    ListServer server = server("v1\n");
    ListHandler h = handler(server.url(), ListEntryType.STRINGS, false);
    h.close();
    refresh(h);
    assertThat(server.requests()).isEqualTo(1);
  }

}

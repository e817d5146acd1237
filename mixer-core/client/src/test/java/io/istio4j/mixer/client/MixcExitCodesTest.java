package io.istio4j.mixer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixer.client.MixcTest.Run;
import io.istio4j.mixer.server.MixerServer;
import io.istio4j.mixer.server.ServerOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * mixc's answers to the user: exit codes (0 allowed, 1 denied, 2 usage, 3 call failed), the address
 * named on failures, and no hang on an address that cannot answer.
 */
class MixcExitCodesTest {

  static final String DENIED_SERVICE = "denied.ns.svc.cluster.local";

  @TempDir
  static Path config;

  static MixerServer server;

  /** Denies one destination; grants one quota unit a minute. */
  @BeforeAll
  static void start() throws Exception {
    Files.writeString(config.resolve("policy.yaml"), """
        apiVersion: config.istio.io/v1alpha2
        kind: attributemanifest
        metadata: {name: attrs, namespace: istio-system}
        spec:
          attributes:
            destination.service: {valueType: STRING}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: denier
        metadata: {name: handler, namespace: istio-system}
        spec:
          status: {code: 7, message: Not allowed}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: checknothing
        metadata: {name: denyrequest, namespace: istio-system}
        spec: {}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: deny, namespace: istio-system}
        spec:
          match: destination.service == "%s"
          actions:
          - handler: handler.denier
            instances: [denyrequest.checknothing]
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: memquota
        metadata: {name: handler, namespace: istio-system}
        spec:
          quotas:
          - name: requestcount.quota.istio-system
            maxAmount: 1
            validDuration: 60s
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: quota
        metadata: {name: requestcount, namespace: istio-system}
        spec:
          dimensions:
            destination: destination.service | "unknown"
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: quota, namespace: istio-system}
        spec:
          actions:
          - handler: handler.memquota
            instances: [requestcount.quota]
        """.formatted(DENIED_SERVICE));
    server = MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("fs://" + config));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String mixer() {
    return "localhost:" + server.port();
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void allowedCheckExitsZero() {
    Run r = MixcTest.mixc("check", "-m", mixer(), "-s", "destination.service=ok.ns.svc.cluster.local");
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(Mixc.OK);
    assertThat(r.out()).contains("Check status was OK");
  }

  @Test
  void deniedCheckExitsOne() {
    Run r = MixcTest.mixc("check", "-m", mixer(), "-s", "destination.service=" + DENIED_SERVICE);
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(Mixc.DENIED);
    assertThat(r.out()).contains("Check status was PERMISSION_DENIED (handler.denier.istio-system:Not allowed)");
  }

  @Test
  void quotaGrantedShortOfTheAmountExitsOne() {
    Run r = MixcTest.mixc("check", "-m", mixer(), "-s", "destination.service=quota.ns.svc.cluster.local",
        "-q", "requestcount=5");
    assertThat(r.out()).contains("Check status was OK").contains("Quota 'requestcount': granted 1");
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(Mixc.DENIED);
  }

  @Test
  void outOfRangePortIsAUsageErrorNotAHang() {
    Run r = MixcTest.mixc("check", "-m", "localhost:99999");
    assertThat(r.exit()).isEqualTo(Mixc.USAGE);
    assertThat(r.err()).contains("--mixer").contains("localhost:99999").contains("1-65535");
  }

  @Test
  void addressesWithoutAPortOrWithBareIpv6AreUsageErrors() {
    assertThat(MixcTest.mixc("check", "-m", "localhost").err()).contains("has no port");
    Run v6 = MixcTest.mixc("report", "-m", "::1:9091");
    assertThat(v6.exit()).isEqualTo(Mixc.USAGE);
    assertThat(v6.err()).contains("[::1]:9091");
    assertThat(MixcTest.mixc("load", "-m", "localhost:http").err()).contains("port 'http' is not a number");
  }

  @Test
  void ipv6AddressesInBracketsAreAccepted() {
    assertThat(MixerAddress.parse("[::1]:9091")).isEqualTo(new MixerAddress("::1", 9091));
    assertThat(MixerAddress.parse("[::1]:9091").toString()).isEqualTo("[::1]:9091");
    assertThat(MixerAddress.parse("mixer.istio-system:9091")).isEqualTo(new MixerAddress("mixer.istio-system", 9091));
  }

  @Test
  void refusedConnectionFailsNamingTheAddressAndCause() throws Exception {
    int port = closedPort();
    Run r = MixcTest.mixc("check", "-m", "localhost:" + port);
    assertThat(r.exit()).isEqualTo(Mixc.RPC_FAILED);
    assertThat(r.out()).contains("Check RPC failed with: UNAVAILABLE")
        .contains("Connection refused").contains("(Mixer at localhost:" + port + ")");
  }

  @Test
  void unknownHostFailsNamingTheHost() {
    Run r = MixcTest.mixc("report", "-m", "no-such-host.invalid:9091");
    assertThat(r.exit()).isEqualTo(Mixc.RPC_FAILED);
    assertThat(r.out()).contains("Report RPC failed with: UNAVAILABLE").contains("no-such-host.invalid")
        .contains("(Mixer at no-such-host.invalid:9091)");
  }

  /** A peer that accepts connections and never answers: only the deadline ends the call. */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void stalledMixerFailsAtTheDeadline() throws Exception {
    try (ServerSocket silent = new ServerSocket(0)) {
      List<Socket> accepted = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            accepted.add(silent.accept());
          }
        } catch (IOException closed) {
          // the test is over
        }
      });
      acceptor.start();
      try {
        Run check = MixcTest.mixc("check", "-m", "localhost:" + silent.getLocalPort(), "--timeout", "300ms");
        assertThat(check.exit()).isEqualTo(Mixc.RPC_FAILED);
        assertThat(check.out()).contains("DEADLINE_EXCEEDED").contains("Mixer at localhost:" + silent.getLocalPort());

        Run load = MixcTest.mixc("load", "-m", "localhost:" + silent.getLocalPort(), "--timeout", "300ms",
            "--duration", "1s", "--warmup", "0s");
        assertThat(load.exit()).isEqualTo(Mixc.RPC_FAILED);
        assertThat(load.err()).contains("the first check call failed with: DEADLINE_EXCEEDED");
      } finally {
        silent.close();
        acceptor.join();
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  @Test
  void badTimeoutIsAUsageError() {
    Run r = MixcTest.mixc("check", "-m", mixer(), "--timeout", "0s");
    assertThat(r.exit()).isEqualTo(Mixc.USAGE);
    assertThat(r.err()).contains("--timeout").contains("expected: a duration > 0");
  }

  @Test
  void durationsThatWouldOverflowADeadlineAndNonPositiveCountsAreUsageErrors() {
    Run timeout = MixcTest.mixc("check", "-m", mixer(), "--timeout", "2000000h");
    assertThat(timeout.exit()).isEqualTo(Mixc.USAGE);
    assertThat(timeout.err()).contains("at most 24h0m0s");
    Run duration = MixcTest.mixc("load", "-m", mixer(), "--duration", "2000000h");
    assertThat(duration.exit()).isEqualTo(Mixc.USAGE);
    assertThat(duration.err()).contains("at most 24h0m0s");
    assertThat(MixcTest.mixc("load", "-m", mixer(), "--warmup", "-1s").exit()).isEqualTo(Mixc.USAGE);
    Run repeat = MixcTest.mixc("check", "-m", mixer(), "-r", "0");
    assertThat(repeat.exit()).isEqualTo(Mixc.USAGE);
    assertThat(repeat.err()).contains("--repeat: 0 (expected: >= 1)");
  }

  @Test
  void quotaWithoutANameIsAUsageError() {
    Run r = MixcTest.mixc("check", "-m", mixer(), "-q", "=3");
    assertThat(r.exit()).isEqualTo(Mixc.USAGE);
    assertThat(r.err()).contains("--quotas: '=3' has no quota name");
  }

  @Test
  void loadCountsDeniedChecksAsErrorsAndExitsOneWhenAllAreDenied() {
    Run r = MixcTest.mixc("load", "-m", mixer(), "--concurrency", "2", "--duration", "300ms", "--warmup", "0s",
        "-s", "destination.service=" + DENIED_SERVICE);
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(Mixc.DENIED);
    assertThat(r.err()).contains("Mixer answers this Check with PERMISSION_DENIED (handler.denier.istio-system:Not allowed)");
    String json = json(r);
    long requests = field(json, "requests");
    assertThat(requests).isPositive();
    assertThat(field(json, "ok")).isZero();
    assertThat(field(json, "errors")).isEqualTo(requests);
    assertThat(field(json, "status_errors")).isEqualTo(requests);
    assertThat(field(json, "rpc_errors")).isZero();
    assertThat(r.out()).contains("{PERMISSION_DENIED=" + requests + " (handler.denier.istio-system:Not allowed)}");
  }

  @Test
  void loadWithSomeAllowedChecksExitsZero() {
    Run r = MixcTest.mixc("load", "-m", mixer(), "--concurrency", "2", "--duration", "300ms", "--warmup", "0s",
        "-s", "destination.service=ok.ns.svc.cluster.local");
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(Mixc.OK);
    assertThat(field(json(r), "errors")).isZero();
    assertThat(r.err()).isEmpty();
  }

  @Test
  void loadAgainstNoMixerStopsAtTheFirstCallNamingTheAddress() throws Exception {
    int port = closedPort();
    Run r = MixcTest.mixc("load", "-m", "localhost:" + port, "--target", "report", "--duration", "10s");
    assertThat(r.exit()).isEqualTo(Mixc.RPC_FAILED);
    assertThat(r.err()).contains("the first report call failed with: UNAVAILABLE")
        .contains("(Mixer at localhost:" + port + ")");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void enumFlagValuesAreCaseInsensitive() {
    Run r = MixcTest.mixc("load", "-m", mixer(), "--target", "HEALTH", "--concurrency", "1", "--duration", "200ms",
        "--warmup", "0s");
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(Mixc.OK);
    assertThat(json(r)).contains("\"target\":\"health\"");
  }

  @Test
  void exprWithAMissingFileIsAUsageErrorWithoutAStackTrace(@TempDir Path dir) {
    Path missing = dir.resolve("missing.jsonl");
    Run r = MixcTest.mixc("expr", missing.toString());
    assertThat(r.exit()).isEqualTo(Mixc.USAGE);
    assertThat(r.err()).isEqualTo("mixc expr: cannot read " + missing + ": no such file" + System.lineSeparator());
    Run directory = MixcTest.mixc("expr", dir.toString());
    assertThat(directory.exit()).isEqualTo(Mixc.USAGE);
    assertThat(directory.err()).startsWith("mixc expr: cannot read " + dir).doesNotContain("\tat ");
  }

  @Test
  void dashCapitalVPrintsTheVersionOnEveryCommand() {
    for (String[] args : new String[][] {{"-V"}, {"check", "-V"}, {"load", "--version"}, {"expr", "-V"}}) {
      Run r = MixcTest.mixc(args);
      assertThat(r.exit()).isZero();
      assertThat(r.out()).matches("mixc \\d+\\.\\d+\\.\\d+\\S*\\R");
    }
  }

  @Test
  void helpListsTheExitCodes() {
    Run r = MixcTest.mixc("--help");
    assertThat(r.out()).contains("Exit codes:").contains("1   a Check was denied");
  }

  static String json(Run r) {
    return r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow(() -> new AssertionError(r.out() + r.err()));
  }

  static long field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
    if (!m.find()) {
      throw new AssertionError(name + " not in " + json);
    }
    return Long.parseLong(m.group(1));
  }
}

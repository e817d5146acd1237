package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 item 5: the Check cache's hit rate on Bookinfo-like traffic against a real Mixer with
 * the quickstart policy. A generated mix of the four services' calls as their sidecars check them:
 * a user's page view is ingress → productpage, productpage → details, productpage → reviews and,
 * for reviews v2/v3 (two thirds), reviews → ratings; every call has its own request id, path,
 * time, source port and headers (user agent, cookie, the end user's {@code x-user} for a
 * population of 50 users and anonymous visitors). The cache must answer at least 90% of them.
 */
class BookinfoTrafficIT {

  static final String NS = ".default.svc.cluster.local";

  @Test
  void atLeastNinetyPercentOfBookinfoChecksAreCacheHits(@TempDir Path dir) throws Exception {
    try (TestMixer mixer = TestMixer.start(dir);
        MixerClient client = MixerClient.builder().target(mixer.target()).build()) {
      Random rnd = new Random(16);
      int views = 5_000;
      int denied = 0;
      for (int v = 0; v < views; v++) {
        String user = rnd.nextInt(5) == 0 ? null : "user" + rnd.nextInt(50);
        String reviews = "reviews-v" + (1 + rnd.nextInt(3));
        denied += check(client, rnd, user, "istio-ingress", "productpage", "/productpage");
        check(client, rnd, user, "productpage", "details", "/details/" + rnd.nextInt(10));
        check(client, rnd, user, "productpage", "reviews", "/reviews/" + rnd.nextInt(10));
        if (!reviews.equals("reviews-v1")) {
          check(client, rnd, user, "reviews", "ratings", "/ratings/" + rnd.nextInt(10));
        }
      }
      ClientStats s = client.stats();
      double hitRate = (double) s.checkCacheHits() / s.checks();
      System.out.printf("Bookinfo mix: %d checks, %d hits (%.2f%%), %d calls to Mixer, %d uncacheable%n",
          s.checks(), s.checkCacheHits(), 100 * hitRate, s.remoteChecks(), s.uncacheableChecks());
      assertThat(denied).isZero(); // no user is mallory: every page view is allowed
      assertThat(s.uncacheableChecks()).isZero();
      assertThat(hitRate).isGreaterThanOrEqualTo(0.90);
    }
  }

  /** One sidecar's Check of a call; 1 when denied. */
  private static int check(MixerClient client, Random rnd, String user, String source, String destination,
      String path) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":authority", destination + ":9080");
    headers.put(":path", path);
    headers.put(":method", "GET");
    headers.put("user-agent", "Mozilla/5.0 (X11; Linux x86_64) rv:" + (50 + rnd.nextInt(10)));
    headers.put("x-request-id", UUID.randomUUID().toString());
    if (user != null) {
      headers.put("x-user", user);
      headers.put("cookie", "session=" + Long.toHexString(rnd.nextLong()));
    }
    CheckResult r = client.check(Attributes.builder()
        .put("source.service", source + NS)
        .put("destination.service", destination + NS)
        .put("source.ip", new byte[] {10, 1, (byte) rnd.nextInt(4), (byte) rnd.nextInt(250)})
        .put("source.port", 30_000L + rnd.nextInt(30_000))
        .put("request.headers", headers)
        .put("request.path", path)
        .put("request.method", "GET")
        .put("request.host", destination + ":9080")
        .put("request.id", headers.get("x-request-id"))
        .put("request.time", Instant.now())
        .build());
    return r.code() == 0 ? 0 : 1;
  }
}

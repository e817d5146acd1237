package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapters.list.config.Params;
import io.istio4j.adapters.list.config.Params.ListEntryType;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryInstance;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Handlers made of overrides only; fetched lists are in {@link ListHandlerIT}. */
class ListHandlerTest {

  private final TestEnv env = TestEnv.create();

  private ListEntryHandler handler(Params.Builder params) {
    return ListAdapter.newHandler(params.build(), env);
  }

  private static Params.Builder list(ListEntryType type, boolean blacklist, String... overrides) {
    Params.Builder b = ListAdapter.DEFAULT_CONFIG.toBuilder().setEntryType(type).setBlacklist(blacklist);
    for (String o : overrides) {
      b.addOverrides(o);
    }
    return b;
  }

  private static CheckResult check(ListEntryHandler h, String value) {
    return h.handleListEntry(new ListEntryInstance("appversion.listentry.istio-system", value));
  }

  @Test
  void whitelistAllowsListedValuesAndAnswersNotFoundForOthers() {
    ListEntryHandler h = handler(list(ListEntryType.STRINGS, false, "v1", "v2"));
    assertThat(check(h, "v1").status()).isEqualTo(Status.OK);
    assertThat(check(h, "v3").status()).isEqualTo(Status.of(Status.Code.NOT_FOUND, "v3 is not whitelisted"));
    assertThat(check(h, "V1").status().code()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void blacklistDeniesListedValuesAndAllowsOthers() {
    ListEntryHandler h = handler(list(ListEntryType.STRINGS, true, "v1"));
    assertThat(check(h, "v1").status()).isEqualTo(Status.of(Status.Code.PERMISSION_DENIED, "v1 is blacklisted"));
    assertThat(check(h, "v2").status()).isEqualTo(Status.OK);
  }

  @Test
  void everyAnswerCarriesTheCachingIntervalAndUseCount() {
    ListEntryHandler h = handler(list(ListEntryType.IP_ADDRESSES, false, "10.0.0.0/8")
        .setCachingInterval(com.google.protobuf.Duration.newBuilder().setSeconds(42))
        .setCachingUseCount(7));
    for (String value : new String[] {"10.1.1.1", "11.1.1.1", "nonsense"}) {
      CheckResult r = check(h, value);
      assertThat(r.validDuration()).as(value).isEqualTo(Duration.ofSeconds(42));
      assertThat(r.validUseCount()).as(value).isEqualTo(7);
    }
  }

  @Test
  void ipListAnswersInvalidArgumentForAValueThatIsNoAddress() {
    ListEntryHandler h = handler(list(ListEntryType.IP_ADDRESSES, true, "10.0.0.0/8", "2001:db8::/32"));
    assertThat(check(h, "10.20.30.40").status())
        .isEqualTo(Status.of(Status.Code.PERMISSION_DENIED, "10.20.30.40 is blacklisted"));
    assertThat(check(h, "2001:db8::7").status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "192.168.0.1").status()).isEqualTo(Status.OK);
    assertThat(check(h, "reviews.default.svc").status())
        .isEqualTo(Status.of(Status.Code.INVALID_ARGUMENT, "reviews.default.svc is not a valid IP address"));
  }

  @Test
  void caseInsensitiveWhitelist() {
    ListEntryHandler h = handler(list(ListEntryType.CASE_INSENSITIVE_STRINGS, false, "Jason"));
    assertThat(check(h, "JASON").status()).isEqualTo(Status.OK);
    assertThat(check(h, "jason").status()).isEqualTo(Status.OK);
    assertThat(check(h, "jasonx").status()).isEqualTo(Status.of(Status.Code.NOT_FOUND, "jasonx is not whitelisted"));
  }

  @Test
  void regexBlacklistMatchesAnywhere() {
    ListEntryHandler h = handler(list(ListEntryType.REGEX, true, "^/admin", "\\.php$"));
    assertThat(check(h, "/admin/users").status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "/index.php").status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(check(h, "/ratings/admin").status()).isEqualTo(Status.OK);
  }

  @Test
  void aListOfOverridesOnlyIsNeverFetchedOrRefreshed() throws Exception {
    ListEntryHandler h = handler(list(ListEntryType.STRINGS, false, "v1"));
    assertThat(env.scheduled()).isEmpty();
    assertThat(((ListHandler) h).refresh()).isCompleted();
    assertThat(check(h, "v1").status()).isEqualTo(Status.OK);
    h.close();
    h.close();
  }
}

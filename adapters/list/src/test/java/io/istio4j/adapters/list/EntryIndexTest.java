package io.istio4j.adapters.list;

import static io.istio4j.adapters.list.EntryIndex.Match.FOUND;
import static io.istio4j.adapters.list.EntryIndex.Match.INVALID;
import static io.istio4j.adapters.list.EntryIndex.Match.MISSING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapters.list.config.Params.ListEntryType;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntryIndexTest {

  private static EntryIndex index(ListEntryType type, String... entries) {
    return EntryIndex.of(type, List.of(entries));
  }

  @Test
  void stringsMatchExactly() {
    EntryIndex i = index(ListEntryType.STRINGS, "v1", "v2", "v2");
    assertThat(i.match("v1")).isEqualTo(FOUND);
    assertThat(i.match("V1")).isEqualTo(MISSING);
    assertThat(i.match("v")).isEqualTo(MISSING);
    assertThat(i.match("v1 ")).isEqualTo(MISSING);
    assertThat(i.size()).isEqualTo(3);
  }

  @Test
  void caseInsensitiveStringsIgnoreCaseBothWays() {
    EntryIndex i = index(ListEntryType.CASE_INSENSITIVE_STRINGS, "Reviews", "ΣΊΣΥΦΟΣ", "straße");
    assertThat(i.match("reviews")).isEqualTo(FOUND);
    assertThat(i.match("REVIEWS")).isEqualTo(FOUND);
    assertThat(i.match("rEvIeWs")).isEqualTo(FOUND);
    assertThat(i.match("σίσυφος")).isEqualTo(FOUND); // final sigma folds with capital sigma
    assertThat(i.match("STRASSE")).isEqualTo(FOUND);
    assertThat(i.match("review")).isEqualTo(MISSING);
  }

  @Test
  void regexesMatchAnywhereInTheValue() {
    EntryIndex i = index(ListEntryType.REGEX, "admin", "^/api/v[0-9]+/", "\\.internal$");
    assertThat(i.match("/admin/users")).isEqualTo(FOUND);
    assertThat(i.match("superadministrator")).isEqualTo(FOUND);
    assertThat(i.match("/api/v2/ratings")).isEqualTo(FOUND);
    assertThat(i.match("/public/api/v2/ratings")).isEqualTo(MISSING);
    assertThat(i.match("db.internal")).isEqualTo(FOUND);
    assertThat(i.match("db.internal.example.com")).isEqualTo(MISSING);
    assertThat(i.match("Admin")).isEqualTo(MISSING);
  }

  @Test
  void aRegexFlagStaysWithinItsOwnEntry() {
    EntryIndex i = index(ListEntryType.REGEX, "(?i)admin", "^root$");
    assertThat(i.match("ADMIN")).isEqualTo(FOUND);
    assertThat(i.match("ROOT")).isEqualTo(MISSING);
    assertThat(i.match("root")).isEqualTo(FOUND);
  }

  @Test
  void anUnterminatedQuoteStillMatchesEntryByEntry() {
    EntryIndex i = index(ListEntryType.REGEX, "^a+b$", "\\Qx.y");
    assertThat(((EntryIndex.Regexes) i).any()).isNull();
    assertThat(i.match("aab")).isEqualTo(FOUND);
    assertThat(i.match("--x.y--")).isEqualTo(FOUND);
    assertThat(i.match("xzy")).isEqualTo(MISSING);
    assertThat(i.match("aabc")).isEqualTo(MISSING);
  }

  @Test
  void regexesHaveRe2SemanticsSoBacktrackingBombsRunInLinearTime() {
    EntryIndex i = index(ListEntryType.REGEX, "^(a+)+$");
    // a backtracking engine takes ~2^40 steps on this value
    assertThat(i.match("a".repeat(40) + "!")).isEqualTo(MISSING);
    assertThat(i.match("a".repeat(40))).isEqualTo(FOUND);
  }

  @Test
  void emptyListsHoldNothing() {
    for (ListEntryType type : List.of(ListEntryType.STRINGS, ListEntryType.CASE_INSENSITIVE_STRINGS,
        ListEntryType.REGEX, ListEntryType.IP_ADDRESSES)) {
      assertThat(index(type).match("10.0.0.1")).as(type.name()).isEqualTo(MISSING);
    }
  }

  @Test
  void ipListsSeparateIpv4AndIpv6AndRejectNonAddresses() {
    EntryIndex i = index(ListEntryType.IP_ADDRESSES, "10.0.0.0/8", "2001:db8::/32", "::/0");
    assertThat(i.match("10.2.3.4")).isEqualTo(FOUND);
    assertThat(i.match("::ffff:10.2.3.4")).isEqualTo(FOUND);
    assertThat(i.match("11.2.3.4")).isEqualTo(MISSING); // ::/0 holds IPv6 addresses only, as in Go
    assertThat(i.match("fe80::1")).isEqualTo(FOUND);
    assertThat(i.match("ratings")).isEqualTo(INVALID);
    assertThat(i.match("10.0.0.0/8")).isEqualTo(INVALID);
    assertThat(i.match("")).isEqualTo(INVALID);
  }

  @Test
  void badEntriesAreNamed() {
    assertThat(EntryIndex.problem(ListEntryType.IP_ADDRESSES, "10.0.0/8"))
        .isEqualTo("10.0.0/8 is not an IP address or CIDR range (expected: for example 10.0.0.0/8, 1.2.3.4 or 2001:db8::/32)");
    assertThat(EntryIndex.problem(ListEntryType.REGEX, "a(b")).startsWith("a(b is not an RE2 regular expression: ");
    assertThat(EntryIndex.problem(ListEntryType.REGEX, "(a)\\1")).contains("is not an RE2 regular expression");
    assertThat(EntryIndex.problem(ListEntryType.STRINGS, "a(b")).isNull();
    assertThatThrownBy(() -> index(ListEntryType.IP_ADDRESSES, "1.2.3.4", "bogus"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bogus is not an IP address");
  }
}

package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CidrTrieTest {

  private static CidrTrie trie(String... ranges) {
    CidrTrie.Builder b = CidrTrie.builder();
    for (String r : ranges) {
      IpRange range = IpRange.parse(r);
      b.add(range.address(), range.prefixLength());
    }
    return b.build();
  }

  private static boolean contains(CidrTrie trie, String address) {
    return trie.contains(IpRange.lookupAddress(address));
  }

  @Test
  void emptyTrieHoldsNothing() {
    CidrTrie t = CidrTrie.builder().build();
    assertThat(contains(t, "0.0.0.0")).isFalse();
    assertThat(contains(t, "255.255.255.255")).isFalse();
  }

  @Test
  void ipv4RangeHoldsExactlyItsAddresses() {
    CidrTrie t = trie("10.0.0.0/8", "192.168.1.0/24");
    assertThat(contains(t, "10.0.0.0")).isTrue();
    assertThat(contains(t, "10.255.255.255")).isTrue();
    assertThat(contains(t, "11.0.0.0")).isFalse();
    assertThat(contains(t, "9.255.255.255")).isFalse();
    assertThat(contains(t, "192.168.1.77")).isTrue();
    assertThat(contains(t, "192.168.2.1")).isFalse();
  }

  @Test
  void slash32AndBareAddressHoldOneAddress() {
    CidrTrie t = trie("1.2.3.4/32", "5.6.7.8");
    assertThat(contains(t, "1.2.3.4")).isTrue();
    assertThat(contains(t, "5.6.7.8")).isTrue();
    assertThat(contains(t, "1.2.3.5")).isFalse();
    assertThat(contains(t, "5.6.7.9")).isFalse();
    assertThat(contains(t, "1.2.3.3")).isFalse();
  }

  @Test
  void slash0HoldsEveryAddress() {
    CidrTrie t = trie("0.0.0.0/0");
    assertThat(contains(t, "0.0.0.0")).isTrue();
    assertThat(contains(t, "128.0.0.1")).isTrue();
    assertThat(contains(t, "255.255.255.255")).isTrue();
    assertThat(t.nodes()).isEqualTo(1);
  }

  @Test
  void hostBitsPastThePrefixAreIgnoredLikeGoParseCidr() {
    CidrTrie t = trie("10.1.2.3/8");
    assertThat(contains(t, "10.200.0.1")).isTrue();
  }

  @Test
  void overlappingRangesInEitherOrderHoldTheirUnion() {
    for (CidrTrie t : new CidrTrie[] {trie("10.0.0.0/8", "10.1.0.0/16", "10.1.2.3"),
        trie("10.1.2.3", "10.1.0.0/16", "10.0.0.0/8")}) {
      assertThat(contains(t, "10.1.2.3")).isTrue();
      assertThat(contains(t, "10.1.9.9")).isTrue();
      assertThat(contains(t, "10.9.9.9")).isTrue();
      assertThat(contains(t, "11.1.2.3")).isFalse();
    }
    // a range inside one already added adds no nodes
    assertThat(trie("10.0.0.0/8", "10.1.0.0/16").nodes()).isEqualTo(trie("10.0.0.0/8").nodes());
  }

  @Test
  void ipv6Ranges() {
    CidrTrie t = trie("2001:db8::/32", "fe80::/10", "::1", "2001:db9:0:1::/64");
    assertThat(contains(t, "2001:db8::1")).isTrue();
    assertThat(contains(t, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")).isTrue();
    assertThat(contains(t, "2001:db9::1")).isFalse();
    assertThat(contains(t, "2001:db9:0:1:abcd::")).isTrue();
    assertThat(contains(t, "2001:db9:0:2::")).isFalse();
    assertThat(contains(t, "febf:ffff::1")).isTrue();
    assertThat(contains(t, "fec0::1")).isFalse();
    assertThat(contains(t, "::1")).isTrue();
    assertThat(contains(t, "::2")).isFalse();
    assertThat(contains(t, "::")).isFalse();
  }

  @Test
  void ipv6Slash0AndSlash128() {
    assertThat(contains(trie("::/0"), "ffff::ffff")).isTrue();
    CidrTrie one = trie("2001:db8::5/128");
    assertThat(contains(one, "2001:db8::5")).isTrue();
    assertThat(contains(one, "2001:db8::4")).isFalse();
  }

  @Test
  void agreesWithAPlainScanOverRandomRanges() {
    Random random = new Random(42);
    int[] nets = new int[300];
    int[] lengths = new int[300];
    CidrTrie.Builder b = CidrTrie.builder();
    for (int i = 0; i < nets.length; i++) {
      lengths[i] = 8 + random.nextInt(25);
      nets[i] = random.nextInt() & mask(lengths[i]);
      b.add(bytes(nets[i]), lengths[i]);
    }
    CidrTrie t = b.build();
    for (int n = 0; n < 20_000; n++) {
      // half the probes near a listed network, half anywhere
      int address = n % 2 == 0 ? nets[random.nextInt(nets.length)] ^ random.nextInt(1 << 12) : random.nextInt();
      boolean expected = false;
      for (int i = 0; i < nets.length && !expected; i++) {
        expected = (address & mask(lengths[i])) == nets[i];
      }
      assertThat(t.contains(bytes(address))).isEqualTo(expected);
    }
  }

  @Test
  void rejectsAPrefixLongerThanTheAddress() {
    assertThatThrownBy(() -> CidrTrie.builder().add(new byte[4], 33))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("prefixLength: 33 (expected: 0-32)");
  }

  private static int mask(int length) {
    return length == 0 ? 0 : -1 << (32 - length);
  }

  private static byte[] bytes(int address) {
    return new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
  }
}

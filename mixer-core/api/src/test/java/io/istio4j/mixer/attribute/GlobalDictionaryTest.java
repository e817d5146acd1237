package io.istio4j.mixer.attribute;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class GlobalDictionaryTest {

  @Test
  void holdsTheUpstreamWordsByteForByte() throws Exception {
    assertThat(GlobalDictionary.words()).hasSize(167);
    assertThat(GlobalDictionary.SIZE).isEqualTo(167);
    // sha256 of ../shared/spec/global_dictionary.txt (one word per line).
    StringBuilder file = new StringBuilder();
    GlobalDictionary.words().forEach(w -> file.append(w).append('\n'));
    byte[] sha = MessageDigest.getInstance("SHA-256").digest(file.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(HexFormat.of().formatHex(sha))
        .isEqualTo("e2d7fb8dcf8c0ab913d719e57494500411718fe0f0220a91d3e7607ff1e27567");
  }

  @Test
  void pinsIndexesClientsDependOn() {
    assertThat(GlobalDictionary.word(0)).isEqualTo("source.ip");
    assertThat(GlobalDictionary.word(15)).isEqualTo("request.headers");
    assertThat(GlobalDictionary.word(94)).isEqualTo("'200'");
    assertThat(GlobalDictionary.word(110)).isEqualTo("text/plain; charset=utf-8");
    assertThat(GlobalDictionary.word(111)).isEqualTo("'0'");
    assertThat(GlobalDictionary.word(112)).isEqualTo("'1'");
    assertThat(GlobalDictionary.word(134)).isEqualTo("0");
    assertThat(GlobalDictionary.word(136)).isEqualTo("200");
    assertThat(GlobalDictionary.word(152)).isEqualTo("destination.service");
    assertThat(GlobalDictionary.word(158)).isEqualTo("source.service");
    assertThat(GlobalDictionary.word(166)).isEqualTo("request.api_key");
  }

  @Test
  void indexOfIsTheInverseOfWord() {
    for (int i = 0; i < GlobalDictionary.SIZE; i++) {
      assertThat(GlobalDictionary.indexOf(GlobalDictionary.word(i))).isEqualTo(i);
    }
    assertThat(GlobalDictionary.indexOf("200")).isEqualTo(136);
    assertThat(GlobalDictionary.indexOf("'200'")).isEqualTo(94);
    assertThat(GlobalDictionary.indexOf("no.such.word")).isEqualTo(-1);
  }

  @Test
  void globalWordsAreInternedWithTheirIndexAsId() {
    assertThat(AttributeName.of("destination.service").id()).isEqualTo(152);
    assertThat(AttributeName.of("destination.service").globalIndex()).isEqualTo(152);
    AttributeName custom = AttributeName.of("test.custom.attribute");
    assertThat(custom.id()).isGreaterThanOrEqualTo(GlobalDictionary.SIZE);
    assertThat(custom.globalIndex()).isEqualTo(-1);
    assertThat(AttributeName.of("test.custom.attribute")).isSameAs(custom);
  }
}

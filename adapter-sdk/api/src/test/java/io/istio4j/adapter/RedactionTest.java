package io.istio4j.adapter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactionTest {

  @Test
  void userInfoIsReplaced() {
    assertThat(Redaction.redactUserInfo("redis://:s3cret@redis:6379/0")).isEqualTo("redis://***@redis:6379/0");
    assertThat(Redaction.redactUserInfo("redis://admin:s3cret@redis:6379")).isEqualTo("redis://***@redis:6379");
    assertThat(Redaction.redactUserInfo("https://user:pw@lists.example.com/v.txt?x=1"))
        .isEqualTo("https://***@lists.example.com/v.txt?x=1");
  }

  @Test
  void urlsWithoutUserInfoAreUnchanged() {
    for (String url : new String[] {"redis://redis:6379", "localhost:6379", "https://lists.example.com/a@b",
        "http://h/p?mail=a@b.com", "", "not a url"}) {
      assertThat(Redaction.redactUserInfo(url)).isEqualTo(url);
    }
    assertThat(Redaction.redactUserInfo(null)).isNull();
  }

  @Test
  void malformedUrlsAreRedactedToo() {
    // Neither is a valid java.net.URI; the password must not survive either way.
    assertThat(Redaction.redactUserInfo("redis://u:p@ss w0rd@host:notaport"))
        .isEqualTo("redis://***@host:notaport");
    assertThat(Redaction.redactUserInfo("redis://u:pa/ss@host:6379")).isEqualTo("redis://***@host:6379");
    assertThat(Redaction.redactUserInfo("redis://:p#w?d@host")).isEqualTo("redis://***@host");
    assertThat(Redaction.redactUserInfo("u:secret@host:6379")).isEqualTo("***@host:6379");
    assertThat(Redaction.redactUserInfo("redis//u:secret@host")).isEqualTo("***@host");
  }
}

package io.istio4j.mixer.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import com.google.rpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.PreconditionResult;
import io.istio4j.mixer.v1.CheckResponse.QuotaResult;
import io.istio4j.mixer.v1.ReferencedAttributes;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ResponseStatusTest {

  static CheckResponse check(int code, String message) {
    return CheckResponse.newBuilder()
        .setPrecondition(PreconditionResult.newBuilder()
            .setValidUseCount(7)
            .setValidDuration(Duration.newBuilder().setSeconds(10))
            .setStatus(Status.newBuilder().setCode(code).setMessage(message))
            .setReferencedAttributes(ReferencedAttributes.newBuilder().addWords("x").addAttributeMatches(
                ReferencedAttributes.AttributeMatch.newBuilder().setName(-1))))
        .putQuotas("q", QuotaResult.newBuilder().setGrantedAmount(3).build())
        .build();
  }

  @Test
  void checkCodeIsReadFromTheNestedStatus() {
    assertThat(ResponseStatus.checkCode(check(0, "").toByteArray())).isZero();
    assertThat(ResponseStatus.checkCode(check(7, "Not allowed").toByteArray())).isEqualTo(7);
    assertThat(ResponseStatus.checkCode(check(13, "x".repeat(300)).toByteArray())).isEqualTo(13);
    assertThat(ResponseStatus.checkCode(new byte[0])).isZero();
  }

  @Test
  void repeatedPreconditionsMergeAsProtobufDoes() {
    byte[] twice = concat(check(7, "first").toByteArray(), check(5, "").toByteArray());
    assertThat(ResponseStatus.checkCode(twice))
        .isEqualTo(CheckResponse.newBuilder().mergeFrom(check(7, "first")).mergeFrom(check(5, ""))
            .build().getPrecondition().getStatus().getCode())
        .isEqualTo(5);
  }

  @Test
  void malformedResponsesCountAsUnknown() {
    byte[] ok = check(7, "Not allowed").toByteArray();
    byte[] truncated = Arrays.copyOf(ok, ok.length - 3);
    assertThat(ResponseStatus.checkCode(truncated)).isEqualTo(ResponseStatus.MALFORMED);
    assertThat(ResponseStatus.checkCode(new byte[] {(byte) 0x80})).isEqualTo(ResponseStatus.MALFORMED);
    assertThat(ResponseStatus.checkCode(new byte[] {0x13})).isEqualTo(ResponseStatus.MALFORMED); // wire type 3
    assertThat(ResponseStatus.checkCode(new byte[] {0x12, 0x7f})).isEqualTo(ResponseStatus.MALFORMED);
  }

  @Test
  void healthIsServingOnlyWhenItSaysSo() {
    assertThat(ResponseStatus.serving(HealthCheckResponse.newBuilder().setStatus(ServingStatus.SERVING).build()
        .toByteArray())).isTrue();
    assertThat(ResponseStatus.serving(HealthCheckResponse.newBuilder().setStatus(ServingStatus.NOT_SERVING).build()
        .toByteArray())).isFalse();
    assertThat(ResponseStatus.serving(new byte[0])).isFalse();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}

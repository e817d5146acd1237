package io.istio4j.mixer.attribute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.CodedOutputStream;
import io.istio4j.mixer.attribute.DecodedCheckRequest.QuotaParams;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReportRequest;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestDecoderTest {

  @Test
  void decodesEveryCheckRequestField() {
    CheckRequest req = CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(Map.of("destination.service", "a.b.svc"), 167))
        .setGlobalWordCount(111)
        .setDeduplicationId("dedup-42")
        .putQuotas("RequestCount", CheckRequest.QuotaParams.newBuilder().setAmount(3).setBestEffort(true).build())
        .putQuotas("Other", CheckRequest.QuotaParams.newBuilder().setAmount(1).build())
        .build();
    DecodedCheckRequest d = RequestDecoder.decodeCheck(req.toByteArray());
    assertThat(d.globalWordCount()).isEqualTo(111);
    assertThat(d.deduplicationId()).isEqualTo("dedup-42");
    assertThat(d.quotas()).containsExactly(
        Map.entry("RequestCount", new QuotaParams(3, true)), Map.entry("Other", new QuotaParams(1, false)));
    assertThat(d.attributes().toMap()).containsOnly(Map.entry("destination.service", "a.b.svc"));
  }

  @Test
  void emptyCheckRequestDecodesToAnEmptyBag() {
    DecodedCheckRequest d = RequestDecoder.decodeCheck(new byte[0]);
    assertThat(d.attributes().toMap()).isEmpty();
    assertThat(d.attributes().get(AttributeName.of("destination.service"))).isNull();
    assertThat(d.quotas()).isEmpty();
  }

  @Test
  void reportRecordsAreDeltasOverTheRecordsBefore() {
    List<Map<String, Object>> records = new ArrayList<>();
    Map<String, Object> r0 = new LinkedHashMap<>();
    r0.put("destination.service", "a.svc");
    r0.put("response.code", 200L);
    r0.put("request.headers", Map.of("x-user", "jason"));
    records.add(r0);
    Map<String, Object> r1 = new LinkedHashMap<>(r0);
    r1.put("response.code", 503L);
    records.add(r1);
    Map<String, Object> r2 = new LinkedHashMap<>(r1);
    r2.put("test.custom.extra", "x");
    records.add(r2);

    ReportBatchEncoder batch = new ReportBatchEncoder(167);
    records.forEach(r -> assertThat(batch.add(r)).isTrue());
    ReportRequest wire = batch.build();
    // The deltas carry only what changed, and use default_words, not their own dictionaries.
    assertThat(wire.getAttributes(1).getInt64SMap()).containsOnly(Map.entry(30, 503L));
    assertThat(wire.getAttributes(1).getStringsMap()).isEmpty();
    assertThat(wire.getDefaultWordsList()).contains("a.svc", "jason", "test.custom.extra");
    assertThat(wire.getAttributesList()).allMatch(a -> a.getWordsCount() == 0);

    List<Map<String, Object>> seen = new ArrayList<>();
    DecodedReportRequest d = RequestDecoder.decodeReport(wire.toByteArray());
    assertThat(d.recordCount()).isEqualTo(3);
    d.forEachRecord(bag -> seen.add(bag.toMap()));
    assertThat(seen).containsExactlyElementsOf(records);
  }

  @Test
  void recordsWithTheirOwnWordsIgnoreDefaultWords() {
    ReportRequest wire = ReportRequest.newBuilder()
        .addDefaultWords("default-value")
        .addAttributes(CompressedAttributes.newBuilder().putStrings(152, -1))
        .addAttributes(CompressedAttributes.newBuilder().addWords("own-value").putStrings(152, -1))
        .build();
    List<Object> values = new ArrayList<>();
    RequestDecoder.decodeReport(wire.toByteArray())
        .forEachRecord(bag -> values.add(bag.get(AttributeName.of("destination.service"))));
    assertThat(values).containsExactly("default-value", "own-value");
  }

  @Test
  void aRecordWhoseOwnWordsComeAfterItsEntriesDoesNotUseDefaultWords() throws Exception {
    ByteArrayOutputStream rec = new ByteArrayOutputStream();
    CodedOutputStream c = CodedOutputStream.newInstance(rec);
    c.writeTag(2, 2);
    c.writeUInt32NoTag(CodedOutputStream.computeSInt32Size(1, 152)
        + CodedOutputStream.computeSInt32Size(2, -1));
    c.writeSInt32(1, 152);
    c.writeSInt32(2, -1);
    c.writeString(1, "own-value");
    c.flush();
    ReportRequest wire = ReportRequest.newBuilder()
        .addDefaultWords("default-value")
        .addAttributes(CompressedAttributes.parseFrom(rec.toByteArray()))
        .build();
    List<Object> values = new ArrayList<>();
    RequestDecoder.decodeReport(wire.toByteArray())
        .forEachRecord(bag -> values.add(bag.get(AttributeName.of("destination.service"))));
    assertThat(values).containsExactly("own-value");
  }

  @Test
  void badIndexInALaterRecordFailsWithTheClientFallbackPrefix() {
    ReportRequest wire = ReportRequest.newBuilder()
        .addAttributes(CompressedAttributes.newBuilder().putStrings(152, 90).putInt64S(400, 1))
        .addAttributes(CompressedAttributes.newBuilder().putStrings(152, -3))
        .build();
    List<Map<String, Object>> seen = new ArrayList<>();
    assertThatThrownBy(() -> RequestDecoder.decodeReport(wire.toByteArray())
        .forEachRecord(bag -> seen.add(bag.toMap())))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessageStartingWith("Request could not be processed due to invalid")
        .hasMessageContaining("record 1: string value index -3");
    // Record 0 is read like Check: its bad entry is left out, the rest processed.
    assertThat(seen).containsExactly(Map.of("destination.service", "GET"));
  }

  @Test
  void deltaBatchRefusesARecordThatDropsAnAttribute() {
    ReportBatchEncoder batch = new ReportBatchEncoder(167);
    assertThat(batch.add(Map.of("a.b", "1", "c.d", "2"))).isTrue();
    assertThat(batch.add(Map.of("a.b", "1"))).isFalse();
    assertThat(batch.size()).isEqualTo(1);
  }

  @Test
  void tooManyRecordsIsAClearError() {
    ReportRequest.Builder b = ReportRequest.newBuilder();
    for (int i = 0; i < 11; i++) {
      b.addAttributes(CompressedAttributes.getDefaultInstance());
    }
    assertThatThrownBy(() -> RequestDecoder.decodeReport(b.build().toByteArray(), new DecodeLimits(10, 10, 10, 10)))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessage("request too large: more than 10 records in one report");
  }
}

package io.istio4j.mixer.attribute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Timestamp;
import io.istio4j.mixer.attribute.ReferenceLog.Reference;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import io.istio4j.mixer.v1.ReferencedAttributes.Condition;
import io.istio4j.mixer.v1.ReportRequest;
import io.istio4j.mixer.v1.StringMap;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CompressedAttributeBagTest {

  static final AttributeName SERVICE = AttributeName.of("destination.service");
  static final AttributeName HEADERS = AttributeName.of("request.headers");
  static final AttributeName SIZE = AttributeName.of("request.size");
  static final AttributeName CUSTOM = AttributeName.of("test.custom.flag");
  static final AttributeName LATER = AttributeName.of("test.custom.later");

  static Map<String, Object> everyType() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("destination.service", "ratings.default.svc.cluster.local");
    m.put("request.method", "GET");
    m.put("request.size", 512L);
    m.put("response.code", 200L);
    m.put("test.ratio", 0.25);
    m.put("test.custom.flag", true);
    m.put("request.time", Instant.parse("2017-11-21T10:15:30.123456789Z"));
    m.put("response.duration", Duration.ofMillis(19));
    m.put("source.ip", new byte[] {10, 0, 0, 1});
    m.put("request.headers", Map.of(":path", "/ratings", "x-user", "jason", "content-length", "0"));
    m.put("test.empty.string", "");
    m.put("test.negative", -7L);
    return m;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 111, 167})
  void everyValueTypeRoundTrips(int globalWordCount) {
    Map<String, Object> in = everyType();
    CompressedAttributes wire = AttributesEncoder.encode(in, globalWordCount);
    CompressedAttributeBag bag = CompressedAttributeBag.decode(wire.toByteArray());

    assertThat(bag.badEntryCount()).isZero();
    assertThat(bag.names()).containsExactlyInAnyOrderElementsOf(in.keySet());
    Map<String, Object> out = bag.toMap();
    in.forEach((k, v) -> {
      if (v instanceof byte[] b) {
        assertThat((byte[]) out.get(k)).as(k).containsExactly(b);
      } else {
        assertThat(out.get(k)).as(k).isEqualTo(v);
      }
    });
  }

  @Test
  void encoderUsesGlobalIndexesOnlyBelowTheClientsWordCount() {
    CompressedAttributes all = AttributesEncoder.encode(Map.of("destination.service", "GET"), 167);
    assertThat(all.getWordsList()).isEmpty();
    assertThat(all.getStringsMap()).containsEntry(152, 90);

    CompressedAttributes base = AttributesEncoder.encode(Map.of("destination.service", "GET"), 111);
    assertThat(base.getWordsList()).containsExactly("destination.service");
    assertThat(base.getStringsMap()).containsEntry(-1, 90);

    CompressedAttributes none = AttributesEncoder.encode(Map.of("destination.service", "GET"), 0);
    assertThat(none.getWordsList()).containsExactly("destination.service", "GET");
    assertThat(none.getStringsMap()).containsEntry(-1, -2);
  }

  @Test
  void negativeIndexesNameMessageDictionarySlots() {
    CompressedAttributes wire = CompressedAttributes.newBuilder()
        .addWords("test.custom.flag")
        .addWords("my-svc.ns.svc.cluster.local")
        .putStrings(152, -2) // destination.service = words[1]
        .putBools(-1, true) // words[0] = true
        .build();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(wire.toByteArray());
    assertThat(bag.get(SERVICE)).isEqualTo("my-svc.ns.svc.cluster.local");
    assertThat(bag.get(CUSTOM)).isEqualTo(true);
  }

  @Test
  void globalWordsSentInTheMessageDictionaryResolveToTheSameAttribute() {
    CompressedAttributes wire = CompressedAttributes.newBuilder()
        .addWords("request.headers").addWords("x-user").addWords("jason").addWords("request.size")
        .putStringMaps(-1, StringMap.newBuilder().putEntries(-2, -3).build())
        .putInt64S(-4, 9)
        .build();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(wire.toByteArray());
    assertThat(bag.getMapValue(HEADERS, MapKey.of("x-user"))).isEqualTo("jason");
    assertThat(bag.get(SIZE)).isEqualTo(9L);
  }

  @Test
  void mapKeysMatchWhetherSentAsGlobalOrMessageWords() {
    CompressedAttributes wire = CompressedAttributes.newBuilder()
        .addWords("/ratings")
        .putStringMaps(15, StringMap.newBuilder().putEntries(33, -1).build()) // :path (global 33)
        .build();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(wire.toByteArray());
    assertThat(bag.getMapValue(HEADERS, MapKey.of(":path"))).isEqualTo("/ratings");
    assertThat(bag.getMapValue(HEADERS, MapKey.of(":authority"))).isNull();
  }

  @Test
  void mapKeysSentAsMessageWordsMatchOnlyTheSameBytes() {
    CompressedAttributes wire = CompressedAttributes.newBuilder()
        .addWords("x-user").addWords("jason") // -1, -2
        .addWords("x-usex").addWords("eve") // -3, -4: same length, last byte differs
        .addWords("x-b3-sampled").addWords("1") // -5, -6: longer than eight bytes
        .addWords(":path").addWords("/ratings") // -7, -8: a global word sent as a message word
        .putStringMaps(15, StringMap.newBuilder()
            .putEntries(-3, -4).putEntries(-1, -2).putEntries(-5, -6).putEntries(-7, -8).build())
        .build();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(wire.toByteArray());
    assertThat(bag.getMapValue(HEADERS, MapKey.of("x-user"))).isEqualTo("jason");
    assertThat(bag.getMapValue(HEADERS, MapKey.of("x-usex"))).isEqualTo("eve");
    assertThat(bag.getMapValue(HEADERS, MapKey.of("x-b3-sampled"))).isEqualTo("1");
    assertThat(bag.getMapValue(HEADERS, MapKey.of(":path"))).isEqualTo("/ratings");
    assertThat(bag.getMapValue(HEADERS, MapKey.of("x-b3-sampleX"))).isNull();
    assertThat(bag.getMapValue(HEADERS, MapKey.of("x-use"))).isNull();
  }

  @Test
  void checkLeavesOutAttributesWithBadIndexesAndKeepsTheRest() {
    CompressedAttributes wire = CompressedAttributes.newBuilder()
        .addWords("only-word")
        .putStrings(152, -5) // value slot 4 does not exist
        .putStrings(19, 90) // request.method = GET
        .putInt64S(500, 1) // name index beyond the global dictionary
        .putInt64S(-9, 1) // name slot 8 does not exist
        .putStringMaps(15, StringMap.newBuilder().putEntries(33, 9999).build())
        .build();
    DecodedCheckRequest req = RequestDecoder.decodeCheck(
        CheckRequest.newBuilder().setAttributes(wire).build().toByteArray());
    CompressedAttributeBag bag = req.attributes();
    assertThat(bag.get(SERVICE)).isNull();
    assertThat(bag.get(HEADERS)).isNull();
    assertThat(bag.get(AttributeName.of("request.method"))).isEqualTo("GET");
    assertThat(bag.badEntryCount()).isEqualTo(4);
    assertThat(bag.firstProblem()).contains("outside the dictionaries");
  }

  @Test
  void lookupsAreRecordedExactAbsentAndPerMapKey() {
    CompressedAttributeBag bag = CompressedAttributeBag.decode(
        AttributesEncoder.encode(everyType(), 167).toByteArray());
    bag.get(SERVICE);
    bag.get(AttributeName.of("source.user"));
    bag.get(SERVICE);
    bag.getMapValue(HEADERS, MapKey.of("x-user"));
    bag.getMapValue(HEADERS, MapKey.of("x-missing"));
    bag.getMapValue(AttributeName.of("response.headers"), MapKey.of("x-user"));

    assertThat(bag.references().toList()).containsExactly(
        new Reference("destination.service", null, Condition.EXACT),
        new Reference("source.user", null, Condition.ABSENCE),
        new Reference("response.headers", null, Condition.ABSENCE),
        new Reference("request.headers", "x-user", Condition.EXACT),
        new Reference("request.headers", "x-missing", Condition.ABSENCE));
  }

  @Test
  void referencedAttributesNeverUseGlobalIndexesAtOrAboveTheClientsCount() {
    CompressedAttributeBag bag = CompressedAttributeBag.decode(
        AttributesEncoder.encode(everyType(), 167).toByteArray());
    bag.get(SERVICE); // global 152
    bag.get(AttributeName.of("request.method")); // global 19
    bag.getMapValue(HEADERS, MapKey.of(":path")); // 15 and key 33
    bag.getMapValue(HEADERS, MapKey.of("x-user")); // key not global
    bag.get(CUSTOM); // not global

    ReferencedAttributes full = bag.references().encode(167);
    assertThat(full.getWordsList()).containsExactly("test.custom.flag", "x-user");
    assertThat(full.getAttributeMatchesList()).containsExactly(
        match(152, Condition.EXACT), match(19, Condition.EXACT), match(-1, Condition.EXACT),
        match(15, Condition.EXACT).toBuilder().setMapKey(33).build(),
        match(15, Condition.EXACT).toBuilder().setMapKey(-2).build());

    ReferencedAttributes base = bag.references().encode(111);
    assertThat(base.getWordsList()).containsExactly("destination.service", "test.custom.flag", "x-user");
    assertThat(base.getAttributeMatchesList()).extracting(AttributeMatch::getName)
        .containsExactly(-1, 19, -2, 15, 15);

    ReferencedAttributes none = bag.references().encode(0);
    assertThat(none.getWordsList()).containsExactly(
        "destination.service", "request.method", "test.custom.flag", "request.headers", ":path", "x-user");
    for (AttributeMatch m : none.getAttributeMatchesList()) {
      assertThat(m.getName()).isNegative();
    }
    assertThat(none.getAttributeMatches(3).getMapKey()).isEqualTo(-5);

    bag.references().clear();
    assertThat(bag.references().isEmpty()).isTrue();
    assertThat(bag.references().encode(167)).isEqualTo(ReferencedAttributes.getDefaultInstance());
  }

  @Test
  void laterOccurrenceOfAnAttributeWins() throws Exception {
    // Two map entries for the same key: protobuf keeps the last.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    writeStringEntry(c, 19, 90); // request.method GET
    writeStringEntry(c, 19, 91); // request.method POST
    c.flush();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(out.toByteArray());
    assertThat(bag.get(AttributeName.of("request.method"))).isEqualTo("POST");
    assertThat(CompressedAttributes.parseFrom(out.toByteArray()).getStringsMap()).containsEntry(19, 91);
  }

  @Test
  void wordsAfterTheEntriesThatUseThemStillResolve() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    writeStringEntry(c, 152, -2); // destination.service = words[1], before any word
    writeStringEntry(c, -1, 90); // words[0] = GET
    writeStringEntry(c, 19, -7); // request.method = words[6]: never exists
    c.writeString(1, "test.custom.later");
    c.writeString(1, "svc.ns.svc.cluster.local");
    c.flush();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(out.toByteArray());
    assertThat(bag.get(SERVICE)).isEqualTo("svc.ns.svc.cluster.local");
    assertThat(bag.get(LATER)).isEqualTo("GET");
    assertThat(bag.get(AttributeName.of("request.method"))).isNull();
    assertThat(bag.badEntryCount()).isEqualTo(1);
  }

  @Test
  void unknownFieldsAndGroupsAreSkipped() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    c.writeString(100, "from the future");
    c.writeFixed32(101, 7);
    c.writeFixed64(102, 7);
    c.writeUInt64(103, 7);
    c.writeTag(104, 3); // start group with a nested field
    c.writeUInt64(1, 1);
    c.writeTag(104, 4);
    writeStringEntry(c, 19, 90);
    c.writeDouble(2, 1.0); // field 2 with the wrong wire type: unknown, skipped
    c.flush();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(out.toByteArray());
    assertThat(bag.toMap()).containsOnly(Map.entry("request.method", "GET"));
  }

  @Test
  void malformedBytesAreNamedInTheError() {
    assertThatThrownBy(() -> CompressedAttributeBag.decode(new byte[] {0x12, 0x05, 0x08}))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessageContaining("runs past the end");
    assertThatThrownBy(() -> CompressedAttributeBag.decode(new byte[] {0x0f}))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessageContaining("invalid wire type");
  }

  @Test
  void wordsThatAreNotUtf8LeaveTheirAttributesOut() {
    CompressedAttributes wire = CompressedAttributes.newBuilder()
        .addWords("ok")
        .addWords("placeholder")
        .putStrings(152, -2)
        .putStrings(19, -1)
        .putStringMaps(15, StringMap.newBuilder().putEntries(-1, -2).build())
        .build();
    byte[] b = wire.toByteArray();
    byte[] bad = "placeholder".getBytes(StandardCharsets.UTF_8);
    int at = indexOf(b, bad);
    b[at] = (byte) 0xc3; // a lead byte followed by 'l': not UTF-8
    CompressedAttributeBag bag = CompressedAttributeBag.decode(b);
    assertThat(bag.get(SERVICE)).isNull();
    assertThat(bag.getMapValue(HEADERS, MapKey.of("ok"))).isNull();
    assertThat(bag.get(AttributeName.of("request.method"))).isEqualTo("ok");
    assertThat(bag.toMap()).containsOnlyKeys("request.method");
    assertThat(bag.references().toList()).contains(
        new Reference("destination.service", null, Condition.ABSENCE),
        new Reference("request.headers", "ok", Condition.ABSENCE));
    // In a Report's later records the same bytes are an error.
    ReportRequest report = ReportRequest.newBuilder()
        .addAttributes(CompressedAttributes.getDefaultInstance())
        .addAttributes(CompressedAttributes.newBuilder().addWords("placeholder").putStrings(152, -1))
        .build();
    byte[] r = report.toByteArray();
    r[indexOf(r, bad)] = (byte) 0xc3;
    assertThatThrownBy(() -> RequestDecoder.decodeReport(r).forEachRecord(x -> { }))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessageContaining("not valid UTF-8");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  @Test
  void timestampsOutsideProtobufsRangeAreLeftOut() {
    CompressedAttributes wire = CompressedAttributes.newBuilder()
        .putTimestamps(24, Timestamp.newBuilder().setSeconds(Long.MAX_VALUE).build())
        .putDurations(29, com.google.protobuf.Duration.newBuilder().setSeconds(Long.MIN_VALUE).build())
        .putBytes(0, ByteString.copyFrom(new byte[] {1, 2, 3, 4}))
        .build();
    CompressedAttributeBag bag = CompressedAttributeBag.decode(wire.toByteArray());
    assertThat(bag.toMap()).containsOnlyKeys("source.ip");
    assertThat(bag.badEntryCount()).isEqualTo(2);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 4, 5, 6, 7, 8, 9})
  void anEmptyEntryAtTheEndOfTheBufferIsTheDefaultValueOfGlobalWordZero(int field) throws Exception {
    byte[] wire = {(byte) (field << 3 | 2), 0}; // key 0, value absent: protobuf reads the defaults
    Object expected = CompressedAttributes.parseFrom(wire).getAllFields().isEmpty() ? null : switch (field) {
      case 2 -> GlobalDictionary.word(0);
      case 3 -> 0L;
      case 4 -> 0.0;
      case 5 -> false;
      case 6 -> Instant.EPOCH;
      case 7 -> Duration.ZERO;
      case 8 -> new byte[0];
      default -> Map.of();
    };
    assertThat(CompressedAttributeBag.decode(wire).toMap()).containsEntry(GlobalDictionary.word(0), expected);
    byte[] check = CheckRequest.newBuilder().setAttributes(CompressedAttributes.parseFrom(wire)).build().toByteArray();
    assertThat(RequestDecoder.decodeCheck(check).attributes().toMap()).containsKey(GlobalDictionary.word(0));
  }

  @Test
  void aRecordWithWordsOfItsOwnNeverSeesStringsMadeFromTheDefaultWords() {
    // Written by hand, since protobuf-java puts words first: default_words ["dw"]; one record with
    // an out-of-range timestamp (its error message is made while the default words are in use),
    // strings {0: -1}, and then a word of its own, "mw", which -1 names from then on.
    byte[] report = HexFormat.of().parseHex(
        "0a16" + "320a0801120610" + "8094ebdc03" + "120408001001" + "0a026d77" + "12026477");
    List<Object> values = new ArrayList<>();
    RequestDecoder.decodeReport(report).forEachRecord(bag -> values.add(bag.toMap().get(GlobalDictionary.word(0))));
    assertThat(values).containsExactly("mw");
  }

  @Test
  void anUnusableLastOccurrenceMakesTheAttributeAbsentNotTheEarlierValue() {
    // strings {3: 16} then strings {3: 9999}: protobuf keeps the last, whose value index is unknown.
    byte[] wire = HexFormat.of().parseHex("120408061020" + "12060806109e9c01");
    CompressedAttributeBag bag = CompressedAttributeBag.decode(wire);
    AttributeName name = AttributeName.of(GlobalDictionary.word(3));
    assertThat(bag.get(name)).isNull();
    assertThat(bag.contains(name)).isFalse();
    assertThat(bag.toMap()).doesNotContainKey(GlobalDictionary.word(3));
    assertThat(bag.badEntryCount()).isEqualTo(1);
    assertThat(bag.references().toList()).containsExactly(new Reference(GlobalDictionary.word(3), null, Condition.ABSENCE));
    // The same with an out-of-range timestamp after a valid one.
    CompressedAttributes ts = CompressedAttributes.newBuilder()
        .putTimestamps(4, Timestamp.newBuilder().setSeconds(1).build()).build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ts.toByteArray());
    out.writeBytes(CompressedAttributes.newBuilder()
        .putTimestamps(4, Timestamp.newBuilder().setSeconds(Long.MAX_VALUE).build()).build().toByteArray());
    assertThat(CompressedAttributeBag.decode(out.toByteArray()).toMap()).doesNotContainKey(GlobalDictionary.word(4));
    assertThat(CompressedAttributeBag.decode(ts.toByteArray()).toMap()).containsKey(GlobalDictionary.word(4));
  }

  @Test
  void limitsBoundHugeMaps() {
    CompressedAttributes.Builder b = CompressedAttributes.newBuilder();
    StringMap.Builder m = StringMap.newBuilder();
    for (int i = 0; i < 5000; i++) {
      m.putEntries(-(i + 1), 0);
      b.addWords("k" + i);
    }
    b.putStringMaps(15, m.build());
    // Maps are decoded when first read, but one over the limit fails the call whether or not a rule
    // reads it, as it does in a Report (DecodeLimitsTest).
    assertThatThrownBy(() -> CompressedAttributeBag.decode(b.build().toByteArray()))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessage("request too large: a string map has more than 4096 entries");
  }

  private static AttributeMatch match(int name, Condition c) {
    return AttributeMatch.newBuilder().setName(name).setCondition(c).build();
  }

  private static void writeStringEntry(CodedOutputStream c, int key, int value) throws Exception {
    c.writeTag(2, 2);
    c.writeUInt32NoTag(CodedOutputStream.computeSInt32Size(1, key) + CodedOutputStream.computeSInt32Size(2, value));
    c.writeSInt32(1, key);
    c.writeSInt32(2, value);
  }
}

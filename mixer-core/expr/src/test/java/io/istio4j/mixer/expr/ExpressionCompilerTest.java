package io.istio4j.mixer.expr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.attribute.MutableAttributeBag;
import io.istio4j.mixer.attribute.ReferenceLog.Reference;
import io.istio4j.mixer.v1.ReferencedAttributes.Condition;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExpressionCompilerTest {

  static final Map<String, ValueType> MANIFEST = Map.ofEntries(
      Map.entry("destination.service", ValueType.STRING),
      Map.entry("request.headers", ValueType.STRING_MAP),
      Map.entry("request.size", ValueType.INT64),
      Map.entry("request.path", ValueType.STRING),
      Map.entry("request.time", ValueType.TIMESTAMP),
      Map.entry("response.duration", ValueType.DURATION),
      Map.entry("source.ip", ValueType.IP_ADDRESS),
      Map.entry("source.user", ValueType.STRING),
      Map.entry("test.ratio", ValueType.DOUBLE),
      Map.entry("test.flag", ValueType.BOOL));

  static final ExpressionCompiler COMPILER = ExpressionCompiler.of(MANIFEST);

  static MutableAttributeBag bag() {
    return new MutableAttributeBag()
        .set("destination.service", "reviews.default.svc.cluster.local")
        .set("request.headers", Map.of("x-user", "jason", "user-agent", "curl/7.58"))
        .set("request.size", 0L)
        .set("request.path", "/api/v1/ratings")
        .set("request.time", Instant.parse("2017-11-21T10:15:30Z"))
        .set("response.duration", Duration.ofMillis(19))
        .set("source.ip", new byte[] {10, 0, 0, 1})
        .set("test.ratio", 0.5)
        .set("test.flag", true);
  }

  static Object eval(String text) throws ExpressionException {
    return COMPILER.compile(text).evaluate(bag());
  }

  @Test
  void aRuleOnOneHeaderReferencesOnlyThatHeader() throws Exception {
    MutableAttributeBag bag = bag();
    Expression e = COMPILER.compile("request.headers[\"x-user\"] == \"jason\" && (source.user | \"anon\") == \"anon\"");
    assertThat(e.evaluateBoolean(bag)).isTrue();
    assertThat(bag.references().toList()).containsExactly(
        new Reference("source.user", null, Condition.ABSENCE),
        new Reference("request.headers", "x-user", Condition.EXACT));
  }

  @Test
  void defaultOperatorTakesTheFirstPresentOperandEvenWhenItIsZero() throws Exception {
    assertThat(eval("request.size | 200")).isEqualTo(0L);
    assertThat(eval("request.headers[\"missing\"] | request.headers[\"x-user\"]")).isEqualTo("jason");
    assertThat(eval("source.user | request.path")).isEqualTo("/api/v1/ratings");
  }

  @Test
  void aMissingKeyOutsideTheDefaultOperatorIsEmpty() throws Exception {
    assertThat(eval("request.headers[\"nope\"]")).isEqualTo("");
    assertThatThrownBy(() -> eval("source.user == \"x\""))
        .isInstanceOf(EvaluationException.class).hasMessage("lookup failed: 'source.user'");
  }

  @Test
  void andEvaluatesBothSidesOrShortCircuits() throws Exception {
    assertThatThrownBy(() -> eval("false && source.user == \"x\""))
        .isInstanceOf(EvaluationException.class).hasMessage("lookup failed: 'source.user'");
    assertThat(eval("true || source.user == \"x\"")).isEqualTo(true);
  }

  @Test
  void ipAddressesCompareAcrossTheirFourAndSixteenByteForms() throws Exception {
    assertThat(eval("source.ip == ip(\"10.0.0.1\")")).isEqualTo(true);
    assertThat(eval("source.ip == ip(\"::ffff:10.0.0.1\")")).isEqualTo(true);
    assertThat(eval("source.ip != ip(\"10.0.0.2\")")).isEqualTo(true);
    assertThatThrownBy(() -> eval("source.ip == ip(\"10.0.1\")"))
        .isInstanceOf(EvaluationException.class).hasMessage("could not convert 10.0.1 to IP_ADDRESS");
  }

  @Test
  void matchIsPrefixSuffixOrExact() throws Exception {
    assertThat(eval("match(request.path, \"/api/*\")")).isEqualTo(true);
    assertThat(eval("match(destination.service, \"*.svc.cluster.local\")")).isEqualTo(true);
    assertThat(eval("match(request.path, \"/api\")")).isEqualTo(false);
    assertThat(eval("match(request.path, request.path)")).isEqualTo(true);
  }

  @Test
  void laterFunctionsWork() throws Exception {
    assertThat(eval("\"^/api/v[0-9]+/\".matches(request.path)")).isEqualTo(true);
    assertThat(eval("request.path.startsWith(\"/api\")")).isEqualTo(true);
    assertThat(eval("request.path.endsWith(\"ratings\")")).isEqualTo(true);
    assertThat(eval("email(\"jason@example.com\")")).isEqualTo("jason@example.com");
    assertThat(COMPILER.typeOf("email(\"jason@example.com\")")).isEqualTo(ValueType.EMAIL_ADDRESS);
    assertThat(eval("dnsName(\"reviews.default.svc\")")).isEqualTo("reviews.default.svc");
    assertThat(eval("uri(\"http://example.com/a?b=c\")")).isEqualTo("http://example.com/a?b=c");
    assertThat(eval("emptyStringMap()")).isEqualTo(Map.of());
    assertThat(eval("conditional(test.flag, \"yes\", \"no\")")).isEqualTo("yes");
    assertThatThrownBy(() -> eval("email(\"not an address\")")).isInstanceOf(EvaluationException.class);
  }

  @Test
  void extensionsBeyondUpstream() throws Exception {
    assertThat(eval("!test.flag")).isEqualTo(false);
    assertThat(eval("request.size < 1024")).isEqualTo(true);
    assertThat(eval("test.ratio >= 0.5")).isEqualTo(true);
    assertThat(eval("response.duration > \"10ms\"")).isEqualTo(true);
    assertThat(eval("request.time <= timestamp(\"2017-11-21T10:15:30Z\")")).isEqualTo(true);
    assertThat(eval("size(request.headers)")).isEqualTo(2L);
    assertThat(eval("size(\"héllo\")")).isEqualTo(5L);
    assertThat(eval("request.size == -0")).isEqualTo(true);
    assertThat(eval("request.size > -1")).isEqualTo(true);
  }

  @Test
  void errorsNameTheProblemAsUpstreamDid() {
    assertThatThrownBy(() -> COMPILER.compile("a = 2"))
        .hasMessage("unable to parse expression 'a = 2': 1:3: expected '==', found '='");
    assertThatThrownBy(() -> COMPILER.compile("request.size == true"))
        .hasMessage("EQ($request.size, true) arg 2 (true) typeError got BOOL, expected INT64");
    assertThatThrownBy(() -> COMPILER.compile("nope == 1")).hasMessage("unknown attribute nope");
    assertThatThrownBy(() -> COMPILER.compile("request.size / 2 == 1")).hasMessage("unknown function: QUO");
    assertThatThrownBy(() -> COMPILER.compile("ip()"))
        .hasMessage("ip() arity mismatch. Got 0 arg(s), expected 1 arg(s)");
    assertThatThrownBy(() -> COMPILER.compile("request.size < \"a\""))
        .hasMessage("LSS($request.size, \"a\") arg 2 (\"a\") typeError got STRING, expected INT64");
    assertThatThrownBy(() -> COMPILER.compile("destination.service == \"unterminated"))
        .hasMessageStartingWith("unable to parse expression").hasMessageContaining("string literal not terminated");
  }

  @Test
  void aStringThatIsAGoDurationIsADuration() throws Exception {
    assertThat(COMPILER.typeOf("\"19ms\"")).isEqualTo(ValueType.DURATION);
    assertThat(COMPILER.typeOf("\"reviews\"")).isEqualTo(ValueType.STRING);
    assertThat(eval("response.duration == \"19ms\"")).isEqualTo(true);
  }

  @Test
  void aValueOfTheWrongTypeInTheBagIsAnEvaluationError() throws Exception {
    MutableAttributeBag bag = bag().set("request.path", 42L);
    assertThatThrownBy(() -> COMPILER.compile("request.path == \"/\"").evaluate(bag))
        .isInstanceOf(EvaluationException.class)
        .hasMessage("error converting value to string: '42'");
  }

  @Test
  void evaluateBooleanRefusesOtherTypes() throws Exception {
    Expression e = COMPILER.compile("request.size");
    assertThatThrownBy(() -> e.evaluateBoolean(bag())).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void ipAddressLiteralsWithLeadingZerosAreRejectedAsGo117Does() {
    assertThatThrownBy(() -> eval("source.ip == ip(\"010.0.0.1\")"))
        .isInstanceOf(EvaluationException.class).hasMessage("could not convert 010.0.0.1 to IP_ADDRESS");
  }
}

package io.istio4j.adapter.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.istio4j.adapter.Adapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * An adapter test in the spirit of upstream's {@code RunTest}: start an in-memory Mixer with a
 * config and the adapter, make Check, quota and Report calls, capture the adapter's observable
 * state, and compare all of it with a JSON golden file. A missing golden file fails the test (a
 * deleted or misnamed file must not pass silently); {@code -Distio4j.testkit.update=true} writes or
 * rewrites it from the scenario's result: read it, then check it in.
 *
 * <pre>{@code
 * Scenario.builder()
 *     .adapters(new DenierAdapter())
 *     .config(Files.readString(Path.of("src/test/resources/deny.yaml")))
 *     .check(Map.of("destination.service", "ratings.default.svc.cluster.local"))
 *     .quota(Map.of("destination.service", "ratings.default.svc.cluster.local"), "RequestCount", 1)
 *     .run()
 *     .assertMatchesGolden(Path.of("src/test/resources/golden/denier.json"));
 * }</pre>
 */
public final class Scenario {

  /** Set to true to rewrite golden files with what the scenario produced. */
  public static final String UPDATE_PROPERTY = "istio4j.testkit.update";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private final TestMixer.Builder mixer;
  private final List<Function<TestMixer, Object>> calls;
  private final Function<TestMixer, Object> state;

  private Scenario(Builder b) {
    this.mixer = b.mixer;
    this.calls = List.copyOf(b.calls);
    this.state = b.state;
  }

  /** Starts describing a scenario. */
  public static Builder builder() {
    return new Builder();
  }

  /** Runs the calls in order against a fresh Mixer, then captures the state. */
  public Result run() {
    List<Object> returns = new ArrayList<>();
    Object captured;
    try (TestMixer m = mixer.start()) {
      for (Function<TestMixer, Object> call : calls) {
        returns.add(call.apply(m));
      }
      captured = state == null ? null : state.apply(m);
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("returns", returns);
    result.put("state", captured);
    try {
      return new Result(JSON.writeValueAsString(result) + "\n");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the scenario's result cannot be written as JSON: " + e.getMessage(), e);
    }
  }

  /** What a scenario produced, as JSON. */
  public static final class Result {
    private final String json;

    private Result(String json) {
      this.json = json;
    }

    /** The result: {@code {"returns": [...], "state": ...}}. */
    public String json() {
      return json;
    }

    /**
     * Compares with the golden file: equal JSON passes; a missing file or a different result fails
     * with the result's text. With {@code -Distio4j.testkit.update=true} the file is written instead.
     */
    public void assertMatchesGolden(Path golden) {
      try {
        if (Boolean.getBoolean(UPDATE_PROPERTY)) {
          Files.createDirectories(golden.toAbsolutePath().getParent());
          Files.writeString(golden, json, StandardCharsets.UTF_8);
          System.err.println("testkit: wrote golden file " + golden.toAbsolutePath() + "; check it in");
          return;
        }
        if (!Files.exists(golden)) {
          throw new AssertionError("golden file " + golden.toAbsolutePath() + " does not exist; to create it "
              + "from this result, rerun with -D" + UPDATE_PROPERTY + "=true (e.g. ./mvnw verify -pl MODULE -D"
              + UPDATE_PROPERTY + "=true), read it, and check it in\n--- actual ---\n" + json);
        }
        String want = Files.readString(golden, StandardCharsets.UTF_8);
        JsonNode expected = JSON.readTree(want);
        JsonNode actual = JSON.readTree(json);
        if (!expected.equals(actual)) {
          throw new AssertionError("scenario result differs from golden file " + golden
              + " (rerun with -D" + UPDATE_PROPERTY + "=true to accept it)\n--- golden ---\n" + want
              + "--- actual ---\n" + json);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Describes a scenario. */
  public static final class Builder {
    private final TestMixer.Builder mixer = TestMixer.builder();
    private final List<Function<TestMixer, Object>> calls = new ArrayList<>();
    private Function<TestMixer, Object> state;

    private Builder() {}

    /** The adapters under test. */
    public Builder adapters(Adapter... adapters) {
      mixer.adapters(adapters);
      return this;
    }

    /** Config documents, YAML. */
    public Builder config(String yaml) {
      mixer.config(yaml);
      return this;
    }

    /** Config documents from a file. */
    public Builder configFile(Path file) {
      mixer.configFile(file);
      return this;
    }

    /** Changes the Mixer the scenario starts (options, manifests, rejections). */
    public Builder mixer(Consumer<TestMixer.Builder> customize) {
      customize.accept(mixer);
      return this;
    }

    /** A Check with these attributes. */
    public Builder check(Map<String, ?> attributes) {
      calls.add(m -> m.check(attributes));
      return this;
    }

    /** A Check asking for {@code amount} of quota {@code name}. */
    public Builder quota(Map<String, ?> attributes, String name, long amount) {
      calls.add(m -> m.check(attributes, Map.of(name, amount)));
      return this;
    }

    /** A Report of these records. */
    @SafeVarargs
    public final Builder report(Map<String, ?>... records) {
      calls.add(m -> m.report(records));
      return this;
    }

    /** Any other call; its return value goes into the result. */
    public Builder call(Function<TestMixer, Object> call) {
      calls.add(call);
      return this;
    }

    /** Captures the adapter's observable state after the calls (JSON-serializable). */
    public Builder state(Supplier<Object> capture) {
      this.state = m -> capture.get();
      return this;
    }

    /** The scenario. */
    public Scenario build() {
      return new Scenario(this);
    }

    /** Builds and runs the scenario. */
    public Result run() {
      return build().run();
    }
  }
}

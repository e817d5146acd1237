package io.istio4j.mixer.runtime.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hostile YAML is a clear problem for its file, never a hang, a crash or a flood of memory. */
class YamlDocumentsTest {

  private static List<ConfigStore.Problem> problems(String text) {
    List<ConfigObject> objects = new ArrayList<>();
    List<ConfigStore.Problem> problems = new ArrayList<>();
    boolean read = YamlDocuments.parse("evil.yaml", text, "istio-system", objects, problems);
    assertThat(read).isFalse();
    assertThat(objects).isEmpty();
    return problems;
  }

  @Test
  void aBillionLaughsIsRefused() {
    StringBuilder y = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (char c = 'b'; c <= 'j'; c++) {
      char p = (char) (c - 1);
      y.append(c).append(": &").append(c).append(" [*").append(p).append(",*").append(p).append(",*").append(p)
          .append(",*").append(p).append(",*").append(p).append(",*").append(p).append(",*").append(p).append(",*")
          .append(p).append(",*").append(p).append("]\n");
    }
    // Jackson reads YAML as events and never expands aliases into a tree: the document is read at
    // once, small, and is no config object.
    List<ConfigObject> objects = new ArrayList<>();
    List<ConfigStore.Problem> problems = new ArrayList<>();
    YamlDocuments.parse("evil.yaml", y.toString(), "istio-system", objects, problems);
    assertThat(objects).isEmpty();
    assertThat(problems).singleElement().satisfies(p -> assertThat(p.source()).isEqualTo("evil.yaml"));
  }

  @Test
  void deepNestingIsAProblemNotAStackOverflow() {
    String deep = "a: " + "[".repeat(100_000) + "]".repeat(100_000) + "\n";
    assertThat(problems(deep)).singleElement()
        .satisfies(p -> assertThat(p.message()).startsWith("evil.yaml").contains("not valid YAML"));
  }

  @Test
  void aDocumentThatIsNoObjectNamesWhatItSeemsToDefine() {
    List<ConfigObject> objects = new ArrayList<>();
    List<ConfigStore.Problem> problems = new ArrayList<>();
    YamlDocuments.parse("p.yaml", """
        kind: rule
        metadata: {name: r, namespace: ns}
        spec: [not, a, map]
        ---
        kind: rule
        metadata: {name: fine}
        """, "istio-system", objects, problems);
    assertThat(problems).containsExactly(new ConfigStore.Problem("p.yaml#1", "spec: must be a map", "r.rule.ns"));
    assertThat(objects).extracting(ConfigObject::fqn).containsExactly("fine.rule.istio-system");
    assertThat(objects.get(0).file()).isEqualTo("p.yaml");
  }
}

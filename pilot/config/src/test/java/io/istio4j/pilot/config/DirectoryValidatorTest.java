package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.pilot.model.ConfigKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryValidatorTest {
  @TempDir Path dir;
  private final DirectoryValidator validator = new DirectoryValidator(new ConfigParser());

  @Test
  void reportsEveryProblemOfADirectory() throws IOException {
    Files.writeString(dir.resolve("good.yaml"), FsConfigStoreTest.rule("a", 50));
    Files.writeString(dir.resolve("bad.yaml"), FsConfigStoreTest.rule("b", 150) + "---\n" + FsConfigStoreTest.rule("a", 10));
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/broken.yml"), "kind: RouteRule\nmetadata: {name: c\n");
    Files.writeString(dir.resolve(".hidden.yaml"), "not: [valid");
    Files.writeString(dir.resolve("notes.txt"), "not config");

    ValidationReport r = validator.validate(dir);
    assertThat(r.valid()).isFalse();
    assertThat(r.files()).extracting(ParsedFile::source).containsExactly("bad.yaml", "good.yaml", "sub/broken.yml");
    assertThat(r.errors()).hasSize(4);
    assertThat(r.errors().get(0)).isEqualTo("bad.yaml:1: route-rule default/b: spec.route[0].weight: 150 must be in range 0..100");
    assertThat(r.errors().get(1)).isEqualTo("bad.yaml:1: route-rule default/b: spec.route[1].weight: -50 must be in range 0..100");
    // the parser's message keeps its snippet and caret
    assertThat(r.errors().get(2)).startsWith("sub/broken.yml:3:1: not valid YAML: while parsing a flow mapping\n"
        + " in 'sub/broken.yml', line 2, column 11:");
    assertThat(r.errors().get(3)).isEqualTo(
        "good.yaml:1: route-rule default/a: defined again (first at bad.yaml:10; that one is used)");
  }

  @Test
  void validatesOneFileAndIngressRules() throws IOException {
    Path f = Files.writeString(dir.resolve("ingress.yaml"), """
        kind: IngressRule
        metadata: {name: world}
        spec: {destination: {name: world}, destinationPortName: http, match: {request: {headers: {uri: {exact: /hello}}}}}
        """);
    ValidationReport r = validator.validate(f);
    assertThat(r.valid()).isTrue();
    assertThat(r.configs()).extracting(c -> c.meta().kind()).containsExactly(ConfigKind.INGRESS_RULE);
  }

  @Test
  void missingDirectoryIsAnIoError() {
    assertThatThrownBy(() -> validator.validate(dir.resolve("nope"))).isInstanceOf(IOException.class)
        .hasMessageContaining("does not exist");
  }
}

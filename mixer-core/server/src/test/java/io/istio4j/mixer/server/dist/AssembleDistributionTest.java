package io.istio4j.mixer.server.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks a Mixer build makes on what it lists and what its lib/ holds. */
class AssembleDistributionTest {

  @TempDir
  Path dir;

  @Test
  void aListedJarWithNoAdapterNorTemplateIsRefusedByName() throws Exception {
    Path adapter = jar("acme-adapter-1.0.jar", Map.of(AssembleDistribution.ADAPTER_SERVICE, "com.acme.A\n"));
    Path template = jar("acme-template-1.0.jar", Map.of(AssembleDistribution.TEMPLATE_SERVICE, "com.acme.T\n"));
    Path library = jar("guava-33.jar", Map.of("com/google/common/Foo.class", ""));
    List<String> listed = List.of(
        "The following files have been resolved:",
        "   com.acme:acme-adapter:jar:1.0:compile:" + adapter + " -- module acme.adapter",
        "   com.acme:acme-template:jar:1.0:compile:" + template,
        "   com.google.guava:guava:jar:33:compile:" + library + " -- module com.google.common",
        "");

    assertThatThrownBy(() -> AssembleDistribution.checkListed(listed, Set.of("istio4j-mixer-server")))
        .isInstanceOf(AssembleDistribution.BuildException.class)
        .hasMessageContaining("lists com.google.guava:guava:jar:33, which provides no adapter or template")
        .hasMessageContaining("mixer.libraries")
        .message().doesNotContain("acme");
    // Declared as a library, it passes.
    AssembleDistribution.checkListed(listed, Set.of("guava"));
    // As Maven writes the file when its output is a terminal: coloured.
    AssembleDistribution.checkListed(List.of(
        "   com.acme:acme-adapter:jar:1.0:compile:" + adapter + "\u001b[36m -- module acme.adapter\u001b[0;1;33m (auto)\u001b[m"),
        Set.of());
  }

  @Test
  void oneAdapterInTwoJarsIsRefusedNamingBoth() throws Exception {
    Path lib = Files.createDirectories(dir.resolve("lib"));
    jar("lib/acme-auditlog-adapter-1.0.0.jar", Map.of(AssembleDistribution.ADAPTER_SERVICE, "com.acme.AuditLog\n"));
    jar("lib/acme-auditlog-copy-1.0.0.jar", Map.of(AssembleDistribution.ADAPTER_SERVICE, "# a copy\ncom.acme.AuditLog\n"));

    assertThatThrownBy(() -> AssembleDistribution.writeMergedServices(lib, dir.resolve("services")))
        .isInstanceOf(AssembleDistribution.BuildException.class)
        .hasMessageContaining("holds com.acme.AuditLog twice, in acme-auditlog-adapter-1.0.0.jar and in "
            + "acme-auditlog-copy-1.0.0.jar");
  }

  @Test
  void servicesAreMergedWithTheJarOfEachProvider() throws Exception {
    Path lib = Files.createDirectories(dir.resolve("lib"));
    jar("lib/a.jar", Map.of(AssembleDistribution.ADAPTER_SERVICE, "com.acme.A\ncom.acme.B # two\n",
        "META-INF/services/io.grpc.ServerProvider", "x.P\n"));
    jar("lib/b.jar", Map.of(AssembleDistribution.ADAPTER_SERVICE, "com.other.C\n",
        "META-INF/services/io.grpc.ServerProvider", "x.P\n"));

    AssembleDistribution.writeMergedServices(lib, dir.resolve("services"));

    assertThat(Files.readAllLines(dir.resolve("services/io.istio4j.adapter.Adapter")))
        .containsExactly("com.acme.A  # a.jar", "com.acme.B  # a.jar", "com.other.C  # b.jar");
    // Outside Mixer's own services a provider in two jars is the libraries' business.
    assertThat(Files.readAllLines(dir.resolve("services/io.grpc.ServerProvider")))
        .containsExactly("x.P  # a.jar", "x.P  # b.jar");
  }

  @Test
  void optionsNameWhatIsMissing() {
    assertThatThrownBy(() -> AssembleDistribution.options(new String[] {"--dist=x"}, "dist", "listed"))
        .hasMessage("option --listed is required");
    assertThatThrownBy(() -> AssembleDistribution.options(new String[] {"dist"}, "dist"))
        .hasMessageContaining("argument 'dist': expected --name=value");
  }

  private Path jar(String name, Map<String, String> entries) throws IOException {
    Path jar = dir.resolve(name);
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
      for (Map.Entry<String, String> e : entries.entrySet()) {
        j.putNextEntry(new JarEntry(e.getKey()));
        j.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        j.closeEntry();
      }
    }
    return jar;
  }
}

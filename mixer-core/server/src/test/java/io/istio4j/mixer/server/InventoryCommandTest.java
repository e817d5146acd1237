package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InventoryCommandTest {

  @Test
  void listsEveryBundledTemplateWithItsVariety() {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      code = new CommandLine(new Mixs()).execute("inventory");
    } finally {
      System.setOut(original);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).isZero();
    assertThat(text).contains("TEMPLATES (8)");
    assertThat(text).containsPattern("metric +REPORT +io.istio4j.template.metric.MetricHandler");
    assertThat(text).containsPattern("listentry +CHECK");
    assertThat(text).containsPattern("quota +QUOTA");
    assertThat(text).contains("ADAPTERS (");
  }
}

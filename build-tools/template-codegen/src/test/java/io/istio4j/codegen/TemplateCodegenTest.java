package io.istio4j.codegen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileOptions;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorRequest;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class TemplateCodegenTest {

  private static FieldDescriptorProto.Builder field(String name, int number, Type type) {
    return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type)
        .setLabel(Label.LABEL_OPTIONAL);
  }

  private static FileDescriptorProto template(String pkg, Integer variety, DescriptorProto.Builder message) {
    FileOptions.Builder options = FileOptions.newBuilder().setJavaPackage("com.acme." + pkg.toLowerCase());
    if (variety != null) {
      options.setUnknownFields(UnknownFieldSet.newBuilder()
          .addField(TemplateModel.TEMPLATE_VARIETY_EXTENSION,
              UnknownFieldSet.Field.newBuilder().addVarint(variety).build())
          .build());
    }
    return FileDescriptorProto.newBuilder()
        .setName("acme/" + pkg + ".proto")
        .setPackage("acme." + pkg)
        .setSyntax("proto3")
        .setOptions(options)
        .addMessageType(message)
        .build();
  }

  private static CodeGeneratorResponse run(FileDescriptorProto file) {
    return TemplateCodegen.generate(CodeGeneratorRequest.newBuilder()
        .addFileToGenerate(file.getName())
        .addProtoFile(file)
        .build());
  }

  private static DescriptorProto.Builder requestSize() {
    return DescriptorProto.newBuilder().setName("Template")
        .addField(field("value", 1, Type.TYPE_ENUM).setTypeName(TemplateModel.VALUE_TYPE))
        .addField(field("dimensions", 2, Type.TYPE_MESSAGE).setLabel(Label.LABEL_REPEATED)
            .setTypeName(".acme.requestSize.Template.DimensionsEntry"))
        .addField(field("unit", 3, Type.TYPE_STRING))
        .addField(field("sampled", 4, Type.TYPE_BOOL))
        .addField(field("at", 5, Type.TYPE_MESSAGE).setTypeName(".google.protobuf.Timestamp"))
        .addNestedType(DescriptorProto.newBuilder().setName("DimensionsEntry")
            .setOptions(MessageOptions.newBuilder().setMapEntry(true))
            .addField(field("key", 1, Type.TYPE_STRING))
            .addField(field("value", 2, Type.TYPE_ENUM).setTypeName(TemplateModel.VALUE_TYPE)));
  }

  @Test
  void aReportTemplateBecomesSevenClassesAndAServiceEntry() {
    CodeGeneratorResponse response = run(template("requestSize", 1, requestSize()));
    assertThat(response.getError()).isEmpty();
    assertThat(response.getFileList()).extracting(CodeGeneratorResponse.File::getName).containsExactly(
        "com/acme/requestsize/RequestSizeInstance.java",
        "com/acme/requestsize/RequestSizeType.java",
        "com/acme/requestsize/RequestSizeHandler.java",
        "com/acme/requestsize/RequestSizeAsyncHandler.java",
        "com/acme/requestsize/RequestSizeHandlerBuilder.java",
        "com/acme/requestsize/RequestSizeParam.java",
        "com/acme/requestsize/RequestSizeTemplate.java",
        TemplateCodegen.SERVICES_FILE);
    String instance = response.getFile(0).getContent();
    assertThat(instance).contains("public record RequestSizeInstance(String name, Object value,",
        "Map<String, Object> dimensions", "String unit", "boolean sampled", "Instant at");
    assertThat(response.getFile(2).getContent()).contains("void handleRequestSize(List<RequestSizeInstance> instances)");
    assertThat(response.getFile(3).getContent())
        .contains("CompletionStage<Void> handleRequestSizeAsync(List<RequestSizeInstance> instances)");
    assertThat(response.getFile(4).getContent()).contains("default void setRequestSizeTypes(Map<String, RequestSizeType> types)");
    assertThat(response.getFile(6).getContent()).contains("public static final String NAME = \"requestsize\";",
        "Variety.REPORT", "Fields.typed(compiler, \"unit\", p.unit(), ValueType.STRING)",
        "Fields.typed(compiler, \"at\", p.at(), ValueType.TIMESTAMP)");
    assertThat(response.getFile(7).getContent()).isEqualTo("com.acme.requestsize.RequestSizeTemplate\n");
  }

  @Test
  void checkAndQuotaTemplatesGetTheirHandlerSignatures() {
    DescriptorProto.Builder one = DescriptorProto.newBuilder().setName("Template")
        .addField(field("key", 1, Type.TYPE_STRING));
    assertThat(run(template("apiToken", 0, one)).getFile(2).getContent())
        .contains("CheckResult handleApiToken(ApiTokenInstance instance)");
    assertThat(run(template("rateLimit", 2, one)).getFile(2).getContent())
        .contains("QuotaResult handleQuota(RateLimitInstance instance, QuotaArgs args)");
    assertThat(run(template("apiToken", 0, one)).getFile(3).getContent())
        .contains("CompletionStage<CheckResult> handleApiTokenAsync(ApiTokenInstance instance)");
    assertThat(run(template("rateLimit", 2, one)).getFile(3).getContent())
        .contains("CompletionStage<QuotaResult> handleQuotaAsync(RateLimitInstance instance, QuotaArgs args)");
  }

  @Test
  void filesWithoutTheVarietyOptionAreSkipped() {
    CodeGeneratorResponse response = run(template("plain", null, requestSize()));
    assertThat(response.getError()).isEmpty();
    assertThat(response.getFileList()).isEmpty();
  }

  @Test
  void badTemplatesAreRejectedWithTheFileAndReason() {
    record Case(FileDescriptorProto file, String error) {}
    List<Case> cases = List.of(
        new Case(template("named", 1, DescriptorProto.newBuilder().setName("Template")
            .addField(field("name", 1, Type.TYPE_STRING))),
            "acme/named.proto: field 'name' of Template is reserved"),
        new Case(template("floaty", 1, DescriptorProto.newBuilder().setName("Template")
            .addField(field("ratio", 1, Type.TYPE_FLOAT))),
            "acme/floaty.proto: field 'ratio' has type TYPE_FLOAT; a template field must be string, int64"),
        new Case(template("listy", 1, DescriptorProto.newBuilder().setName("Template")
            .addField(field("tags", 1, Type.TYPE_STRING).setLabel(Label.LABEL_REPEATED))),
            "acme/listy.proto: field 'tags': repeated fields are not allowed in a template (maps are)"),
        new Case(template("v2", 1, DescriptorProto.newBuilder().setName("Template")),
            "acme/v2.proto: the last segment of package 'acme.v2' must match ^[a-zA-Z]+$"),
        new Case(template("nothing", 1, DescriptorProto.newBuilder().setName("Params")),
            "acme/nothing.proto: a template must define 'message Template'"),
        new Case(template("odd", 7, DescriptorProto.newBuilder().setName("Template")),
            "acme/odd.proto: template_variety 7 is not a TemplateVariety"));
    for (Case c : cases) {
      CodeGeneratorResponse response = run(c.file());
      assertThat(response.getError()).as(c.file().getName()).startsWith(c.error());
      assertThat(response.getFileList()).isEmpty();
    }
  }
}

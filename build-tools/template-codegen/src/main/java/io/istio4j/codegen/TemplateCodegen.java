package io.istio4j.codegen;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorRequest;
import com.google.protobuf.compiler.PluginProtos.CodeGeneratorResponse;
import com.palantir.javapoet.JavaFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The protoc plugin: reads a {@code CodeGeneratorRequest} on stdin and answers with the Java of
 * every template among the files to generate, plus {@code
 * META-INF/services/io.istio4j.adapter.template.Template} listing their glue classes. Files without
 * the {@code template_variety} option are skipped.
 *
 * <p>Run by protoc (for example through protobuf-maven-plugin's {@code protocPlugins}); it has no
 * options.
 */
public final class TemplateCodegen {

  static final String SERVICES_FILE = "META-INF/services/io.istio4j.adapter.template.Template";

  private TemplateCodegen() {}

  /** Entry point for protoc. */
  public static void main(String[] args) throws IOException {
    CodeGeneratorRequest request = CodeGeneratorRequest.parseFrom(readAll(System.in));
    CodeGeneratorResponse response = generate(request);
    OutputStream out = System.out;
    response.writeTo(out);
    out.flush();
  }

  /** Generates the response for {@code request}; template errors become the response's error. */
  static CodeGeneratorResponse generate(CodeGeneratorRequest request) {
    Map<String, FileDescriptorProto> files = new HashMap<>();
    for (FileDescriptorProto f : request.getProtoFileList()) {
      files.put(f.getName(), f);
    }
    CodeGeneratorResponse.Builder response = CodeGeneratorResponse.newBuilder()
        .setSupportedFeatures(CodeGeneratorResponse.Feature.FEATURE_PROTO3_OPTIONAL_VALUE);
    List<String> glue = new ArrayList<>();
    try {
      for (String name : request.getFileToGenerateList()) {
        FileDescriptorProto file = files.get(name);
        Optional<Integer> variety = TemplateModel.variety(file);
        if (variety.isEmpty()) {
          continue;
        }
        TemplateGenerator generator = new TemplateGenerator(TemplateModel.of(file, variety.get()));
        for (JavaFile java : generator.generate()) {
          String path = java.packageName().replace('.', '/') + "/" + java.typeSpec().name() + ".java";
          response.addFile(CodeGeneratorResponse.File.newBuilder().setName(path).setContent(java.toString()));
        }
        glue.add(generator.glueClassName());
      }
    } catch (CodegenException e) {
      return CodeGeneratorResponse.newBuilder().setError(e.getMessage()).build();
    }
    if (!glue.isEmpty()) {
      response.addFile(CodeGeneratorResponse.File.newBuilder()
          .setName(SERVICES_FILE)
          .setContent(String.join("\n", glue) + "\n"));
    }
    return response.build();
  }

  private static byte[] readAll(InputStream in) throws IOException {
    return in.readAllBytes();
  }
}

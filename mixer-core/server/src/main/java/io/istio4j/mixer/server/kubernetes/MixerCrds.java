package io.istio4j.mixer.server.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsOrArray;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsOrBool;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The CustomResourceDefinitions ({@code apiextensions.k8s.io/v1}) of a build's kinds, with OpenAPI
 * v3 schemas generated from the adapter config and template param messages, so the API server
 * refuses a misspelt field or a list where a map belongs before Mixer ever sees it.
 *
 * <p>The schemas follow what Mixer's spec reader accepts (proto3 JSON, as upstream): every field
 * is listed under its lowerCamel JSON name and, when different, its {@code .proto} name too
 * (upstream config mixes {@code instance_name} and {@code numFiniteBuckets}; a structural schema
 * prunes fields it does not list, so listing one spelling only would silently drop the other);
 * 64-bit integers take a number or a string; enums take their names; {@code Duration} a string.
 * {@code x-kubernetes-preserve-unknown-fields} appears only where the message has a {@code Struct},
 * {@code Value}, {@code ListValue} or {@code Any} (free-form by definition), and on a message that
 * contains itself (a structural schema cannot recurse).
 */
public final class MixerCrds {

  private MixerCrds() {}

  /** The CRDs of {@code kinds}, in their order. */
  public static List<CustomResourceDefinition> of(List<MixerKind> kinds) {
    List<CustomResourceDefinition> crds = new ArrayList<>();
    for (MixerKind k : kinds) {
      crds.add(crd(k));
    }
    return crds;
  }

  /** {@code ---}-separated YAML of {@code kinds}' CRDs, for {@code kubectl apply -f -}. */
  public static String yaml(List<MixerKind> kinds) {
    StringBuilder out = new StringBuilder();
    for (CustomResourceDefinition crd : of(kinds)) {
      String doc = Serialization.asYaml(crd);
      out.append(doc.startsWith("---") ? doc : "---\n" + doc);
    }
    return out.toString();
  }

  /** The CRD of one kind. */
  public static CustomResourceDefinition crd(MixerKind kind) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("istio", kind.role().label());
    labels.put("package", kind.role() == MixerKind.Role.CORE ? "istio.io.mixer" : kind.name());
    JSONSchemaProps spec = switch (kind.name()) {
      case "rule" -> ruleSchema();
      case "attributemanifest" -> manifestSchema();
      default -> message(kind.spec(), new HashSet<>());
    };
    JSONSchemaProps root = new JSONSchemaPropsBuilder()
        .withType("object")
        .addToProperties("spec", spec)
        .build();
    return new CustomResourceDefinitionBuilder()
        .withMetadata(new ObjectMetaBuilder().withName(kind.crdName()).withLabels(labels).build())
        .withNewSpec()
          .withGroup(MixerKind.GROUP)
          .withScope("Namespaced")
          .withNewNames()
            .withKind(kind.name())
            .withListKind(kind.name() + "List")
            .withPlural(kind.plural())
            .withSingular(kind.name())
            .withCategories("istio-io", "policy-istio-io")
          .endNames()
          .addNewVersion()
            .withName(MixerKind.VERSION)
            .withServed(true)
            .withStorage(true)
            .withNewSchema().withOpenAPIV3Schema(root).endSchema()
          .endVersion()
        .endSpec()
        .build();
  }

  // ---- rules and manifests: fixed shapes (SnapshotBuilder reads them without a message type) ----

  private static JSONSchemaProps ruleSchema() {
    JSONSchemaProps action = new JSONSchemaPropsBuilder()
        .withType("object")
        .addToProperties("handler", string("The handler: <name>.<adapter> or <name>.<adapter>.<namespace>."))
        .addToProperties("instances", array(string("An instance: <name>.<template>[.<namespace>].")))
        .build();
    return new JSONSchemaPropsBuilder()
        .withType("object")
        .addToProperties("match", string("A BOOL expression; empty matches every request."))
        .addToProperties("selector", string("Deprecated name of match."))
        .addToProperties("actions", array(action))
        .build();
  }

  private static JSONSchemaProps manifestSchema() {
    JSONSchemaProps info = new JSONSchemaPropsBuilder()
        .withType("object")
        .addToProperties("description", string(null))
        .addToProperties("valueType", string("STRING, INT64, DOUBLE, BOOL, TIMESTAMP, IP_ADDRESS, "
            + "EMAIL_ADDRESS, URI, DNS_NAME, DURATION or STRING_MAP."))
        .addToProperties("value_type", string("The proto name of valueType."))
        .build();
    return new JSONSchemaPropsBuilder()
        .withType("object")
        .addToProperties("revision", string(null))
        .addToProperties("name", string(null))
        .addToProperties("attributes", new JSONSchemaPropsBuilder()
            .withType("object")
            .withAdditionalProperties(new JSONSchemaPropsOrBool(null, info))
            .build())
        .build();
  }

  // ---- messages ----

  /** The schema of a message; {@code open} holds the messages being expanded (for recursion). */
  static JSONSchemaProps message(Descriptor d, Set<String> open) {
    JSONSchemaProps known = wellKnown(d);
    if (known != null) {
      return known;
    }
    if (!open.add(d.getFullName())) {
      // A message inside itself: a structural schema cannot say so; Mixer's spec reader checks it.
      return new JSONSchemaPropsBuilder().withType("object").withXKubernetesPreserveUnknownFields(true)
          .withDescription(d.getFullName() + " (recursive; checked by Mixer)").build();
    }
    Map<String, JSONSchemaProps> properties = new LinkedHashMap<>();
    for (FieldDescriptor f : d.getFields()) {
      JSONSchemaProps s = field(f, open);
      properties.put(f.getJsonName(), s);
      if (!f.getName().equals(f.getJsonName())) {
        properties.put(f.getName(), s);
      }
    }
    open.remove(d.getFullName());
    return new JSONSchemaPropsBuilder().withType("object").withProperties(properties).build();
  }

  private static JSONSchemaProps field(FieldDescriptor f, Set<String> open) {
    if (f.isMapField()) {
      FieldDescriptor value = f.getMessageType().findFieldByNumber(2);
      return new JSONSchemaPropsBuilder()
          .withType("object")
          .withAdditionalProperties(new JSONSchemaPropsOrBool(null, single(value, open)))
          .build();
    }
    if (f.isRepeated()) {
      return array(single(f, open));
    }
    return single(f, open);
  }

  private static JSONSchemaProps single(FieldDescriptor f, Set<String> open) {
    return switch (f.getType()) {
      case MESSAGE, GROUP -> message(f.getMessageType(), open);
      case ENUM -> {
        List<String> names = new ArrayList<>();
        for (EnumValueDescriptor v : f.getEnumType().getValues()) {
          names.add(v.getName());
        }
        yield new JSONSchemaPropsBuilder().withType("string")
            .withEnum(names.stream().map(n -> (JsonNode) TextNode.valueOf(n)).toList()).build();
      }
      case BOOL -> type("boolean", null);
      case STRING -> type("string", null);
      case BYTES -> type("string", "byte");
      case DOUBLE, FLOAT -> type("number", null);
      case INT32, SINT32, SFIXED32 -> type("integer", "int32");
      case UINT32, FIXED32 -> type("integer", "int64");
      // proto3 JSON writes 64-bit integers as strings and reads both forms.
      case INT64, SINT64, SFIXED64, UINT64, FIXED64 ->
          new JSONSchemaPropsBuilder().withXKubernetesIntOrString(true).build();
    };
  }

  /** Well-known types by their JSON form; null for an ordinary message. */
  private static JSONSchemaProps wellKnown(Descriptor d) {
    return switch (d.getFullName()) {
      case "google.protobuf.Struct", "google.protobuf.Any" ->
          new JSONSchemaPropsBuilder().withType("object").withXKubernetesPreserveUnknownFields(true).build();
      case "google.protobuf.Value" -> new JSONSchemaPropsBuilder().withXKubernetesPreserveUnknownFields(true).build();
      case "google.protobuf.ListValue" ->
          array(new JSONSchemaPropsBuilder().withXKubernetesPreserveUnknownFields(true).build());
      case "google.protobuf.Duration" -> string("A duration such as 10s, 1.5s or 1m30s.");
      case "google.protobuf.Timestamp" -> type("string", "date-time");
      case "google.protobuf.FieldMask" -> type("string", null);
      case "google.protobuf.Empty" -> type("object", null);
      case "google.protobuf.BoolValue" -> type("boolean", null);
      case "google.protobuf.StringValue" -> type("string", null);
      case "google.protobuf.BytesValue" -> type("string", "byte");
      case "google.protobuf.DoubleValue", "google.protobuf.FloatValue" -> type("number", null);
      case "google.protobuf.Int32Value" -> type("integer", "int32");
      case "google.protobuf.UInt32Value" -> type("integer", "int64");
      case "google.protobuf.Int64Value", "google.protobuf.UInt64Value" ->
          new JSONSchemaPropsBuilder().withXKubernetesIntOrString(true).build();
      default -> null;
    };
  }

  private static JSONSchemaProps type(String type, String format) {
    return new JSONSchemaPropsBuilder().withType(type).withFormat(format).build();
  }

  private static JSONSchemaProps string(String description) {
    return new JSONSchemaPropsBuilder().withType("string").withDescription(description).build();
  }

  private static JSONSchemaProps array(JSONSchemaProps items) {
    return new JSONSchemaPropsBuilder().withType("array").withItems(new JSONSchemaPropsOrArray(null, items)).build();
  }
}

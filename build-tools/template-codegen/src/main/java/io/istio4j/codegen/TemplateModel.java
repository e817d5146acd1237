package io.istio4j.codegen;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.SourceCodeInfo;
import com.google.protobuf.UnknownFieldSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A template read from its {@code .proto} file: name, variety and fields, checked against the rules
 * of upstream's generator (spec §4.1).
 *
 * @param name the template name, the lowercased last segment of the proto package
 * @param prefix the Java name prefix, the last segment with its first letter upper-cased
 * @param javaPackage where the generated classes go
 * @param variety 0 CHECK, 1 REPORT, 2 QUOTA, 3 ATTRIBUTE_GENERATOR
 * @param protoFile the template's file name
 * @param protoPackage the template's proto package
 * @param fields the fields of {@code message Template}
 * @param comment the leading comment of {@code message Template}, or ""
 */
record TemplateModel(
    String name,
    String prefix,
    String javaPackage,
    int variety,
    String protoFile,
    String protoPackage,
    List<FieldModel> fields,
    String comment) {

  /** The number of the {@code template_variety} extension of FileOptions. */
  static final int TEMPLATE_VARIETY_EXTENSION = 72295727;

  static final String VALUE_TYPE = ".istio.mixer.v1.config.descriptor.ValueType";
  private static final Pattern NAME = Pattern.compile("[a-zA-Z]+");
  private static final int MESSAGE_TYPE_PATH = 4;
  private static final int FIELD_PATH = 2;

  /** The types a template field may have. */
  enum Scalar {
    STRING("STRING"),
    INT64("INT64"),
    DOUBLE("DOUBLE"),
    BOOL("BOOL"),
    VALUE_TYPE(null),
    TIMESTAMP("TIMESTAMP"),
    DURATION("DURATION");

    /** The declared ValueType a non-ValueType field's expression must have. */
    final String valueType;

    Scalar(String valueType) {
      this.valueType = valueType;
    }
  }

  /**
   * One template field.
   *
   * @param protoName the field name in the proto (and in config)
   * @param number the field number
   * @param javaName the lowerCamel Java name
   * @param type the field's type, or the value type for a map
   * @param map true for {@code map<string, type>}
   * @param comment the field's leading comment, or ""
   */
  record FieldModel(String protoName, int number, String javaName, Scalar type, boolean map, String comment) {}

  /** The variety of {@code file}, empty when the file is not a template. */
  static Optional<Integer> variety(FileDescriptorProto file) {
    UnknownFieldSet.Field f = file.getOptions().getUnknownFields().getField(TEMPLATE_VARIETY_EXTENSION);
    if (f == null || f.getVarintList().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(f.getVarintList().get(f.getVarintList().size() - 1).intValue());
  }

  /** Reads the template of {@code file}; throws CodegenException naming the file and problem. */
  static TemplateModel of(FileDescriptorProto file, int variety) {
    String where = file.getName();
    if (variety < 0 || variety > 3) {
      throw new CodegenException(where + ": template_variety " + variety + " is not a TemplateVariety");
    }
    String pkg = file.getPackage();
    String last = pkg.substring(pkg.lastIndexOf('.') + 1);
    if (!NAME.matcher(last).matches()) {
      throw new CodegenException(where + ": the last segment of package '" + pkg
          + "' must match ^[a-zA-Z]+$; it names the template");
    }
    int index = -1;
    for (int i = 0; i < file.getMessageTypeCount(); i++) {
      if (file.getMessageType(i).getName().equals("Template")) {
        index = i;
      }
    }
    if (index < 0) {
      throw new CodegenException(where + ": a template must define 'message Template'");
    }
    DescriptorProto template = file.getMessageType(index);
    List<FieldModel> fields = new ArrayList<>();
    for (int i = 0; i < template.getFieldCount(); i++) {
      FieldDescriptorProto f = template.getField(i);
      if (f.getName().equals("name")) {
        throw new CodegenException(where + ": field 'name' of Template is reserved (instances are named by config)");
      }
      fields.add(field(where, template, f, comment(file, MESSAGE_TYPE_PATH, index, FIELD_PATH, i)));
    }
    String javaPackage = file.getOptions().hasJavaPackage() ? file.getOptions().getJavaPackage() : pkg;
    String prefix = Character.toUpperCase(last.charAt(0)) + last.substring(1);
    return new TemplateModel(last.toLowerCase(Locale.ROOT), prefix, javaPackage, variety,
        file.getName(), pkg, List.copyOf(fields), comment(file, MESSAGE_TYPE_PATH, index));
  }

  private static FieldModel field(String where, DescriptorProto template, FieldDescriptorProto f, String comment) {
    String javaName = lowerCamel(f.getName());
    if (f.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED) {
      DescriptorProto entry = mapEntry(template, f.getTypeName());
      if (entry == null) {
        throw new CodegenException(where + ": field '" + f.getName()
            + "': repeated fields are not allowed in a template (maps are)");
      }
      if (entry.getField(0).getType() != FieldDescriptorProto.Type.TYPE_STRING) {
        throw new CodegenException(where + ": field '" + f.getName() + "': map keys must be string");
      }
      return new FieldModel(f.getName(), f.getNumber(), javaName, scalar(where, entry.getField(1), f.getName()),
          true, comment);
    }
    return new FieldModel(f.getName(), f.getNumber(), javaName, scalar(where, f, f.getName()), false, comment);
  }

  private static Scalar scalar(String where, FieldDescriptorProto f, String fieldName) {
    switch (f.getType()) {
      case TYPE_STRING:
        return Scalar.STRING;
      case TYPE_INT64:
        return Scalar.INT64;
      case TYPE_DOUBLE:
        return Scalar.DOUBLE;
      case TYPE_BOOL:
        return Scalar.BOOL;
      case TYPE_ENUM:
        if (f.getTypeName().equals(VALUE_TYPE)) {
          return Scalar.VALUE_TYPE;
        }
        break;
      case TYPE_MESSAGE:
        if (f.getTypeName().equals(".google.protobuf.Timestamp")) {
          return Scalar.TIMESTAMP;
        }
        if (f.getTypeName().equals(".google.protobuf.Duration")) {
          return Scalar.DURATION;
        }
        break;
      default:
        break;
    }
    String type = f.getTypeName().isEmpty() ? f.getType().name() : f.getTypeName();
    throw new CodegenException(where + ": field '" + fieldName + "' has type " + type
        + "; a template field must be string, int64, double, bool, "
        + "istio.mixer.v1.config.descriptor.ValueType, google.protobuf.Timestamp, "
        + "google.protobuf.Duration or a map<string, ...> of those");
  }

  private static DescriptorProto mapEntry(DescriptorProto template, String typeName) {
    String simple = typeName.substring(typeName.lastIndexOf('.') + 1);
    for (DescriptorProto nested : template.getNestedTypeList()) {
      if (nested.getName().equals(simple) && nested.getOptions().getMapEntry()) {
        return nested;
      }
    }
    return null;
  }

  private static String comment(FileDescriptorProto file, int... path) {
    if (!file.hasSourceCodeInfo()) {
      return "";
    }
    for (SourceCodeInfo.Location loc : file.getSourceCodeInfo().getLocationList()) {
      if (loc.getPathCount() == path.length && loc.hasLeadingComments()) {
        boolean same = true;
        for (int i = 0; i < path.length && same; i++) {
          same = loc.getPath(i) == path[i];
        }
        if (same) {
          return loc.getLeadingComments().strip();
        }
      }
    }
    return "";
  }

  static String lowerCamel(String snake) {
    StringBuilder sb = new StringBuilder(snake.length());
    boolean upper = false;
    for (int i = 0; i < snake.length(); i++) {
      char c = snake.charAt(i);
      if (c == '_') {
        upper = sb.length() > 0;
      } else {
        sb.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return sb.toString();
  }

  static String upperCamel(String snake) {
    String lower = lowerCamel(snake);
    return Character.toUpperCase(lower.charAt(0)) + lower.substring(1);
  }

  boolean hasValueTypeFields() {
    return fields.stream().anyMatch(f -> f.type() == Scalar.VALUE_TYPE);
  }
}

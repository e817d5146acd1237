package io.istio4j.adapter.template;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes instance-param messages, the expression-per-field shape of a template that
 * instance specs are parsed into. Generated code embeds the param message's descriptor and calls
 * these. Not for adapter authors.
 */
public final class Params {

  private Params() {}

  /** Builds the descriptor of {@code messageName} from a base64 {@code FileDescriptorProto}. */
  public static Descriptor descriptor(String base64FileDescriptor, String messageName) {
    try {
      FileDescriptorProto proto =
          FileDescriptorProto.parseFrom(Base64.getDecoder().decode(base64FileDescriptor));
      FileDescriptor file = FileDescriptor.buildFrom(proto, new FileDescriptor[0]);
      Descriptor d = file.findMessageTypeByName(messageName);
      if (d == null) {
        throw new IllegalStateException("no message " + messageName + " in " + proto.getName());
      }
      return d;
    } catch (InvalidProtocolBufferException | DescriptorValidationException e) {
      throw new IllegalStateException("corrupt embedded descriptor for " + messageName, e);
    }
  }

  /** The string field numbered {@code number} of {@code param}; "" when unset. */
  public static String string(Message param, int number) {
    return (String) param.getField(field(param, number));
  }

  /** The {@code map<string, string>} field numbered {@code number}, in the param's order. */
  public static Map<String, String> stringMap(Message param, int number) {
    List<?> entries = (List<?>) param.getField(field(param, number));
    if (entries.isEmpty()) {
      return Map.of();
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (Object o : entries) {
      Message entry = (Message) o;
      Descriptor d = entry.getDescriptorForType();
      map.put((String) entry.getField(d.findFieldByNumber(1)),
          (String) entry.getField(d.findFieldByNumber(2)));
    }
    return Collections.unmodifiableMap(map);
  }

  /** Starts a param message of {@code descriptor}. */
  public static DynamicMessage.Builder builder(Descriptor descriptor) {
    return DynamicMessage.newBuilder(descriptor);
  }

  /** Sets a string field (an empty string leaves it unset, as proto3 does). */
  public static void setString(DynamicMessage.Builder builder, int number, String value) {
    if (!value.isEmpty()) {
      builder.setField(builder.getDescriptorForType().findFieldByNumber(number), value);
    }
  }

  /** Adds the entries of a {@code map<string, string>} field. */
  public static void putStringMap(DynamicMessage.Builder builder, int number, Map<String, String> map) {
    FieldDescriptor fd = builder.getDescriptorForType().findFieldByNumber(number);
    Descriptor entryType = fd.getMessageType();
    for (Map.Entry<String, String> e : map.entrySet()) {
      builder.addRepeatedField(fd, DynamicMessage.newBuilder(entryType)
          .setField(entryType.findFieldByNumber(1), e.getKey())
          .setField(entryType.findFieldByNumber(2), e.getValue())
          .build());
    }
  }

  private static FieldDescriptor field(Message param, int number) {
    FieldDescriptor fd = param.getDescriptorForType().findFieldByNumber(number);
    if (fd == null) {
      throw new IllegalArgumentException("param " + param.getDescriptorForType().getFullName()
          + " has no field numbered " + number);
    }
    return fd;
  }
}

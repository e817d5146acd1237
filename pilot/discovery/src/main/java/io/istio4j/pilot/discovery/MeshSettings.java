package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.config.v1.ProxyConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Mesh-wide settings the process hands to the xDS server: the domain suffix ({@code --domain}), the
 * namespace Pilot is limited to ({@code --appNamespace}, empty for all), the MeshConfig and, when
 * {@code --caAddress} is set, mesh mutual TLS ({@code mtls}; null when off).
 */
public record MeshSettings(String domain, String appNamespace, MeshConfig meshConfig, @Nullable MtlsSettings mtls) {

  /** Without mutual TLS. */
  public MeshSettings(String domain, String appNamespace, MeshConfig meshConfig) {
    this(domain, appNamespace, meshConfig, null);
  }

  public MeshSettings {
    requireNonNull(domain, "domain");
    requireNonNull(appNamespace, "appNamespace");
    requireNonNull(meshConfig, "meshConfig");
    if (domain.isBlank() || domain.startsWith(".") || domain.endsWith(".")) {
      throw new IllegalArgumentException("--domain: '" + domain + "' (expected: a DNS suffix such as cluster.local)");
    }
  }

  /** Upstream 0.2's defaults ({@code DefaultMeshConfig()}), what a missing {@code --meshConfig} means. */
  public static MeshConfig defaultMeshConfig() {
    return MeshConfig.newBuilder()
        .setProxyListenPort(15001)
        .setConnectTimeout(seconds(1))
        .setIngressClass("istio")
        .setIngressService("istio-ingress")
        .setIngressControllerMode(MeshConfig.IngressControllerMode.STRICT)
        .setAuthPolicy(MeshConfig.AuthPolicy.NONE)
        .setRdsRefreshDelay(seconds(1))
        .setEnableTracing(true)
        .setAccessLogFile("/dev/stdout")
        .setDefaultConfig(ProxyConfig.newBuilder()
            .setConfigPath("/etc/istio/proxy")
            .setBinaryPath("/usr/local/bin/envoy")
            .setServiceCluster("istio-proxy")
            .setDrainDuration(seconds(2))
            .setParentShutdownDuration(seconds(3))
            .setDiscoveryAddress("istio-pilot:15010")
            .setDiscoveryRefreshDelay(seconds(1))
            .setZipkinAddress("zipkin:9411")
            .setConnectTimeout(seconds(1))
            .setProxyAdminPort(15000))
        .build();
  }

  /**
   * The MeshConfig in {@code file} (YAML or JSON, field names as upstream's mesh ConfigMap writes them,
   * camelCase or snake_case) laid over {@link #defaultMeshConfig}; the defaults alone when {@code file}
   * is null.
   *
   * @throws IllegalArgumentException naming the file and the problem (missing, not YAML, unknown field)
   */
  public static MeshConfig loadMeshConfig(@Nullable Path file) {
    MeshConfig.Builder b = defaultMeshConfig().toBuilder();
    if (file == null) {
      return b.build();
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--meshConfig " + file + ": no such file", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("--meshConfig " + file + ": cannot read it: " + e.getMessage(), e);
    }
    JsonNode tree;
    try {
      tree = new ObjectMapper(new YAMLFactory()).readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("--meshConfig " + file + ": not YAML: " + e.getOriginalMessage(), e);
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      return b.build();
    }
    if (!tree.isObject()) {
      throw new IllegalArgumentException("--meshConfig " + file + ": expected a mapping of MeshConfig fields, found "
          + tree.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    MeshConfig.Builder parsed = MeshConfig.newBuilder();
    try {
      JsonFormat.parser().merge(tree.toString(), parsed);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("--meshConfig " + file + ": " + e.getMessage(), e);
    }
    overlay(b, parsed.build(), tree);
    return b.build();
  }

  /**
   * Sets on {@code target} every field the file names, with its parsed value: a field set to its zero
   * value ({@code enableTracing: false}) overrides a default, which a plain proto merge would ignore.
   */
  private static void overlay(Message.Builder target, Message parsed, JsonNode tree) {
    Descriptor d = target.getDescriptorForType();
    for (Map.Entry<String, JsonNode> e : tree.properties()) {
      FieldDescriptor f = d.findFieldByName(e.getKey());
      if (f == null) {
        for (FieldDescriptor candidate : d.getFields()) {
          if (candidate.getJsonName().equals(e.getKey())) {
            f = candidate;
          }
        }
      }
      if (f == null) {
        continue; // the parser already refused unknown fields
      }
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !f.isRepeated() && e.getValue().isObject()) {
        overlay(target.getFieldBuilder(f), (Message) parsed.getField(f), e.getValue());
      } else {
        target.setField(f, parsed.getField(f));
      }
    }
  }

  private static Duration seconds(long s) {
    return Duration.newBuilder().setSeconds(s).build();
  }
}

package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * What an {@link Adapter} tells Mixer about itself.
 *
 * <pre>{@code
 * AdapterInfo info = AdapterInfo.builder("listchecker")
 *     .description("Checks whether a value is on a list")
 *     .supportedTemplates("listentry")
 *     .defaultConfig(Params.newBuilder().setCachingUseCount(10000).build())
 *     .builderFactory(Builder::new)
 *     .build();
 * }</pre>
 *
 * @param name the adapter's name, an RFC 1035 label; it is the config {@code kind} of its handlers
 * @param description one line for operators ({@code mixs inventory})
 * @param supportedTemplates names of the templates every handler of this adapter implements
 * @param defaultConfig the config message with its defaults; handler specs are read into its type
 * @param builderFactory makes a new builder for each configured handler
 * @param blocking true when the handlers' methods may wait on I/O (a network backend, a disk):
 *     Mixer then calls them on a bounded pool with a deadline; false (the default) for handlers
 *     that answer from memory, which Mixer calls inline on the request's thread
 */
public record AdapterInfo(
    String name,
    String description,
    List<String> supportedTemplates,
    Message defaultConfig,
    Supplier<? extends HandlerBuilder<?>> builderFactory,
    boolean blocking) {

  private static final Pattern RFC1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");

  /** Validates and copies the parts. */
  public AdapterInfo {
    requireNonNull(name, "name");
    if (!RFC1035_LABEL.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name: '" + name + "' (expected: an RFC 1035 label, lower case letters, digits and '-')");
    }
    requireNonNull(description, "description");
    supportedTemplates = List.copyOf(requireNonNull(supportedTemplates, "supportedTemplates"));
    if (supportedTemplates.isEmpty()) {
      throw new IllegalArgumentException(
          "supportedTemplates of adapter '" + name + "': empty (expected: at least one template)");
    }
    requireNonNull(defaultConfig, "defaultConfig");
    requireNonNull(builderFactory, "builderFactory");
  }

  /** Starts an AdapterInfo for the adapter named {@code name}. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Collects the parts of an {@link AdapterInfo}. */
  public static final class Builder {
    private final String name;
    private String description = "";
    private final List<String> supportedTemplates = new ArrayList<>();
    private Message defaultConfig;
    private Supplier<? extends HandlerBuilder<?>> builderFactory;
    private boolean blocking;

    private Builder(String name) {
      this.name = requireNonNull(name, "name");
    }

    /** One line describing the adapter. */
    public Builder description(String description) {
      this.description = requireNonNull(description, "description");
      return this;
    }

    /** Adds template names (for example {@code "metric"}). */
    public Builder supportedTemplates(String... templates) {
      supportedTemplates.addAll(Arrays.asList(templates));
      return this;
    }

    /** The config message with its defaults. */
    public Builder defaultConfig(Message defaultConfig) {
      this.defaultConfig = requireNonNull(defaultConfig, "defaultConfig");
      return this;
    }

    /** Makes a new builder per configured handler, for example {@code Builder::new}. */
    public Builder builderFactory(Supplier<? extends HandlerBuilder<?>> builderFactory) {
      this.builderFactory = requireNonNull(builderFactory, "builderFactory");
      return this;
    }

    /** Marks the adapter's handlers as waiting on I/O; see {@link AdapterInfo#blocking()}. */
    public Builder blocking() {
      this.blocking = true;
      return this;
    }

    /** Builds the info; throws IllegalArgumentException or NullPointerException for bad parts. */
    public AdapterInfo build() {
      return new AdapterInfo(name, description, supportedTemplates, defaultConfig, builderFactory, blocking);
    }
  }
}

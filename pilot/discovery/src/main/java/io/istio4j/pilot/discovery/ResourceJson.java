package io.istio4j.pilot.discovery;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Envoy resources as JSON (proto3 JSON, as Envoy's admin {@code config_dump} prints them). Any
 * payloads whose types are not known up front are found by name in the class path (Envoy's messages
 * live in {@code io.envoyproxy.<proto package>}), so a new filter type prints without a code change.
 */
final class ResourceJson {

  /** {@code \\u003d} and friends, not preceded by an escaped backslash. */
  private static final Pattern HTML_ESCAPE = Pattern.compile("(?<!\\\\)((?:\\\\\\\\)*)\\\\u00(3d|26|3c|3e|27)");

  private final Set<Descriptor> known = new LinkedHashSet<>(List.of(Listener.getDescriptor(),
      RouteConfiguration.getDescriptor(), Cluster.getDescriptor(), ClusterLoadAssignment.getDescriptor(),
      HttpConnectionManager.getDescriptor(), Router.getDescriptor(), HTTPFault.getDescriptor(),
      TcpProxy.getDescriptor()));
  private JsonFormat.Printer printer = printer();

  /** The resources as a JSON array, each an object with its {@code @type}. */
  String array(List<Any> resources) throws InvalidProtocolBufferException {
    List<String> items = new ArrayList<>();
    for (Any a : resources) {
      items.add(print(a));
    }
    return items.isEmpty() ? "[]" : "[\n" + indent(String.join(",\n", items)) + "\n]";
  }

  String print(Message m) throws InvalidProtocolBufferException {
    for (int attempt = 0; ; attempt++) {
      try {
        return readable(printer.print(m));
      } catch (InvalidProtocolBufferException e) {
        String msg = String.valueOf(e.getMessage());
        String marker = "Cannot find type for url: ";
        int at = msg.indexOf(marker);
        if (at < 0 || attempt > 50) {
          throw e;
        }
        String url = msg.substring(at + marker.length()).strip();
        Descriptor d = lookup(url.substring(url.lastIndexOf('/') + 1));
        if (d == null || !known.add(d)) {
          throw e;
        }
        printer = printer();
      }
    }
  }

  /**
   * The JSON with {@code =}, {@code &}, {@code <}, {@code >} and {@code '} written as themselves: the
   * printer escapes them for HTML, which makes cluster names such as {@code outbound|9080|version=v1|...}
   * hard to read and to grep. Both forms are the same JSON string.
   */
  static String readable(String json) {
    Matcher m = HTML_ESCAPE.matcher(json);
    StringBuilder b = new StringBuilder(json.length());
    while (m.find()) {
      char c = (char) Integer.parseInt(m.group(2), 16);
      m.appendReplacement(b, Matcher.quoteReplacement(m.group(1) + c));
    }
    return m.appendTail(b).toString();
  }

  private JsonFormat.Printer printer() {
    TypeRegistry.Builder b = TypeRegistry.newBuilder();
    for (Descriptor d : known) {
      b.add(d);
    }
    return JsonFormat.printer().usingTypeRegistry(b.build());
  }

  /** The descriptor of a proto type by full name: {@code envoy.a.b.v3.Msg} is {@code io.envoyproxy.envoy.a.b.v3.Msg}. */
  private static Descriptor lookup(String fullName) {
    for (String prefix : new String[] {"io.envoyproxy.", "com.github.", ""}) {
      try {
        Class<?> c = Class.forName(prefix + fullName);
        return (Descriptor) c.getMethod("getDescriptor").invoke(null);
      } catch (ReflectiveOperationException | ClassCastException e) {
        // not under this prefix; try the next
      }
    }
    return null;
  }

  private static String indent(String s) {
    return "  " + s.replace("\n", "\n  ");
  }
}

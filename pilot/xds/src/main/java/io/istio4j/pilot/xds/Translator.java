package io.istio4j.pilot.xds;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.LoadBalancingPolicy;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.core.v3.UpstreamHttpProtocolOptions;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.NonForwardingAction;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest;
import io.envoyproxy.envoy.extensions.load_balancing_policies.random.v3.Random;
import io.envoyproxy.envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.grpc.Status;
import io.istio4j.pilot.config.v1.CircuitBreaker;
import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.EgressRule;
import io.istio4j.pilot.config.v1.HTTPFaultInjection;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.LoadBalancing;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.config.v1.StringMatch;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.TlsSecret;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one {@link PushContext} into the v3 resources of one proxy. Pure: the same context, node and
 * co-located instances give the same resources, each list sorted by name. One translator serves
 * every proxy of a push.
 *
 * <p>How 0.2's rules map is described in docs/pilot-xds.md; the short form: a RouteConfiguration per
 * outbound HTTP port (named by the port number) with one virtual host per service, routes in
 * precedence order, one EDS cluster per service port and per label subset a rule routes to
 * ({@code outbound|<port>|<labels>|<host>}, EDS service name = the 0.2 service key).
 */
public final class Translator {
  private static final Logger log = LoggerFactory.getLogger(Translator.class);

  /** The fault filter's name; routes carry their faults under it in typed_per_filter_config. */
  public static final String FAULT_FILTER = "envoy.filters.http.fault";
  static final String ROUTER_FILTER = "envoy.filters.http.router";
  static final String HCM_FILTER = "envoy.filters.network.http_connection_manager";
  static final String TCP_PROXY_FILTER = "envoy.filters.network.tcp_proxy";
  static final String TLS_SOCKET = "envoy.transport_sockets.tls";
  static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";
  static final String HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  /** Upstream's retry conditions for a simple retry policy. */
  public static final String RETRY_ON = "5xx,connect-failure,refused-stream";
  /** The original-destination cluster the sidecar's virtual listener passes unknown traffic to. */
  public static final String PASSTHROUGH_CLUSTER = "PassthroughCluster";
  /** The sidecar's virtual listener (iptables sends everything there). */
  public static final String VIRTUAL_LISTENER = "virtual";

  private static final ConfigSource ADS = ConfigSource.newBuilder()
      .setAds(AggregatedConfigSource.getDefaultInstance())
      .setResourceApiVersion(ApiVersion.V3)
      .build();

  private final PushContext ctx;

  Translator(PushContext ctx) {
    this.ctx = ctx;
  }

  /**
   * Virtual hosts keep their identity across pushes when unchanged, so the large per-port route
   * configuration is hashed, compared and validated by reference except for what changed.
   */
  private VirtualHost intern(VirtualHost vh) {
    return ctx.interner == null ? vh : ctx.interner.intern(vh);
  }

  // ---------------------------------------------------------------- names

  /** {@code outbound|<port>|<labels>|<host>}: the readable cluster name of a service port subset. */
  public static String outboundCluster(int port, Labels labels, String host) {
    return "outbound|" + port + "|" + labels + "|" + host;
  }

  /** {@code inbound|<endpointPort>}: the sidecar's cluster to the local workload. */
  public static String inboundCluster(int port) {
    return "inbound|" + port;
  }

  /** The LDS/RDS name proxyless clients ask for: {@code <hostname>:<port>}. */
  public static String proxylessName(String host, int port) {
    return host + ":" + port;
  }

  // ---------------------------------------------------------------- entry

  /** The resources of a proxy whose co-located instances are {@code sources}. */
  ProxyResources translate(ProxyNode node, List<ServiceInstance> sources) {
    Build b = new Build(node, sources);
    switch (node.type()) {
      case PROXYLESS:
        return proxyless(b);
      case INGRESS:
        ingress(b);
        break;
      default:
        return sidecar(b);
    }
    return b.result();
  }

  /** Mutable state of one proxy's translation. */
  private final class Build {
    final ProxyNode node;
    final List<ServiceInstance> sources;
    final TreeMap<String, Cluster> clusters = new TreeMap<>();
    final TreeMap<String, ClusterLoadAssignment> endpoints = new TreeMap<>();
    final TreeMap<String, Listener> listeners = new TreeMap<>();
    final TreeMap<String, RouteConfiguration> routes = new TreeMap<>();

    Build(ProxyNode node, List<ServiceInstance> sources) {
      this.node = node;
      this.sources = sources;
    }

    ProxyResources result() {
      return new ProxyResources(List.copyOf(clusters.values()), List.copyOf(endpoints.values()),
          List.copyOf(listeners.values()), List.copyOf(routes.values()));
    }

    /** The cluster of a service port subset, added (with its endpoints and policy) on first use. */
    String serviceCluster(Service s, Port p, Labels labels) {
      String name = outboundCluster(p.port(), labels, s.hostname());
      if (clusters.containsKey(name)) {
        return name;
      }
      Optional<DestinationPolicy> policy = ctx.policy(s.hostname(), labels, sources);
      Cluster.Builder c = Cluster.newBuilder().setName(name).setConnectTimeout(connectTimeout());
      if (s.external()) {
        // An ExternalName service: the sidecar (or gRPC) resolves the external name itself.
        c.setType(Cluster.DiscoveryType.LOGICAL_DNS)
            .setLoadAssignment(staticAssignment(name, s.externalName(), p.port()));
      } else {
        ClusterLoadAssignment cla = ctx.endpoints.get(ctx.discovery, s, p, labels);
        endpoints.put(cla.getClusterName(), cla);
        c.setType(Cluster.DiscoveryType.EDS).setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
            .setEdsConfig(ADS).setServiceName(cla.getClusterName()));
      }
      applyPolicy(c, policy, true, node.proxyless());
      protocolOptions(c, p.protocol(), policy, false);
      if (!s.external() && ctx.mtlsMode(s, p) == MtlsMode.STRICT) {
        // Depends on the destination only (its mode and accounts), so the cluster stays shared
        // by every sidecar of a view; the certificate itself is each sidecar's own SDS secret.
        c.setTransportSocket(tlsSocket(UpstreamTlsContext.newBuilder()
            .setCommonTlsContext(clientTls(node.proxyless(), ctx.discovery.serviceAccounts(s.hostname(), Set.of(p.name()))))
            .setSni(outboundCluster(p.port(), Labels.EMPTY, s.hostname())).build()));
      }
      clusters.put(name, c.build());
      return name;
    }
  }

  // ---------------------------------------------------------------- sidecar

  /**
   * A sidecar's resources: the outbound view it shares with every sidecar whose sources select the
   * same rules and policies, plus its own inbound side. The shared lists are used as they are, and
   * a list merged with inbound resources is made once per push for every sidecar with the same
   * inbound resources (only listeners, which carry the sidecar's IP, are merged per sidecar): a
   * hundred sidecars of one view cost one view, not a hundred copies of it.
   */
  private ProxyResources sidecar(Build b) {
    StringBuilder key = new StringBuilder(b.node.type().name());
    for (Config c : ctx.sourceScoped) {
      if (ctx.sourceMatches(c, b.sources)) {
        key.append('|').append(c.key());
      }
    }
    // Clusters, endpoints and routes depend on the rules and policies that select the sidecar's
    // sources; only the virtual hosts' short domains depend on its namespace (its DNS domain). So
    // the core is built once per source key, and each domain's view reuses it.
    String sourceKey = key.toString();
    OutboundCore core = (OutboundCore) ctx.outbound.computeIfAbsent("core|" + sourceKey, k -> outboundCore(b));
    String viewKey = "view|" + b.node.domain() + "|" + sourceKey;
    SharedView view = (SharedView) ctx.outbound.get(viewKey);
    if (view == null) {
      // (Not computeIfAbsent: building the view memoizes its virtual hosts in the same map.)
      view = new SharedView(outboundView(core, b.node));
      ctx.outbound.put(viewKey, view);
    }
    inbound(b);
    // iptables sends every connection to the virtual listener, which hands it to the listener of
    // its original destination; anything unmatched goes straight through.
    b.clusters.put(PASSTHROUGH_CLUSTER, Cluster.newBuilder().setName(PASSTHROUGH_CLUSTER)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST).setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setConnectTimeout(connectTimeout()).build());
    b.listeners.put(VIRTUAL_LISTENER, Listener.newBuilder().setName(VIRTUAL_LISTENER)
        .setAddress(socket("0.0.0.0", ctx.options.proxyListenPort()))
        .setUseOriginalDst(BoolValue.of(true))
        .addFilterChains(FilterChain.newBuilder().addFilters(tcpProxy(VIRTUAL_LISTENER, PASSTHROUGH_CLUSTER)))
        .build());
    ProxyResources shared = view.resources;
    return new ProxyResources(
        mergedOnce(shared.clusters(), b.clusters, Cluster::getName),
        mergedOnce(shared.endpoints(), b.endpoints, ClusterLoadAssignment::getClusterName),
        merged(shared.listeners(), b.listeners, Listener::getName),
        mergedOnce(shared.routes(), b.routes, RouteConfiguration::getName));
  }

  /** A sidecar outbound view built in this push (identity equality: a memo key part). */
  private static final class SharedView {
    final ProxyResources resources;

    SharedView(ProxyResources resources) {
      this.resources = resources;
    }
  }

  /** Key of a merged list: the shared list (by identity) and the (few) resources merged into it. */
  private record MergeKey(Object shared, List<?> extras) {
    @Override
    public boolean equals(Object o) {
      return o instanceof MergeKey k && k.shared == shared && k.extras.equals(extras);
    }

    @Override
    public int hashCode() {
      return 31 * System.identityHashCode(shared) + extras.hashCode();
    }
  }

  /** {@link #merged}, made once per push for each shared list and equal extras. */
  @SuppressWarnings("unchecked")
  private <T> List<T> mergedOnce(List<T> shared, TreeMap<String, T> extras, Function<T, String> name) {
    if (extras.isEmpty()) {
      return shared;
    }
    List<T> own = List.copyOf(extras.values());
    return (List<T>) ctx.outbound.computeIfAbsent(new MergeKey(shared, own), k -> merged(shared, extras, name));
  }

  /** Two name-sorted lists merged by name; on equal names the extra wins. */
  private static <T> List<T> merged(List<T> shared, TreeMap<String, T> extras, Function<T, String> name) {
    if (extras.isEmpty()) {
      return shared;
    }
    List<T> out = new ArrayList<>(shared.size() + extras.size());
    Iterator<Map.Entry<String, T>> x = extras.entrySet().iterator();
    Map.Entry<String, T> next = x.next();
    for (T t : shared) {
      String n = name.apply(t);
      while (next != null && next.getKey().compareTo(n) < 0) {
        out.add(next.getValue());
        next = x.hasNext() ? x.next() : null;
      }
      if (next != null && next.getKey().equals(n)) {
        out.add(next.getValue());
        next = x.hasNext() ? x.next() : null;
      } else {
        out.add(t);
      }
    }
    while (next != null) {
      out.add(next.getValue());
      next = x.hasNext() ? x.next() : null;
    }
    return List.copyOf(out);
  }

  /**
   * An HTTP virtual host of the outbound side before its domains are known: a service port (its
   * domains depend on the proxy's DNS domain) or an egress host and port (fixed domains).
   */
  private record HttpHost(@Nullable Service service, Port port, String name, @Nullable List<String> fixedDomains,
      List<Route> routes) {}

  /** The domain-independent part of a sidecar's outbound side, shared by every namespace's view. */
  private static final class OutboundCore {
    final List<Cluster> clusters;
    final List<ClusterLoadAssignment> endpoints;
    final TreeMap<String, Listener> tcpListeners;
    final List<HttpHost> http;

    OutboundCore(List<Cluster> clusters, List<ClusterLoadAssignment> endpoints, TreeMap<String, Listener> tcpListeners,
        List<HttpHost> http) {
      this.clusters = clusters;
      this.endpoints = endpoints;
      this.tcpListeners = tcpListeners;
      this.http = http;
    }
  }

  /** Outbound clusters, endpoints, TCP listeners and HTTP routes of a sidecar (its domain aside). */
  private OutboundCore outboundCore(Build b) {
    Build o = new Build(b.node, b.sources);
    List<HttpHost> http = new ArrayList<>();
    for (Service s : ctx.services) {
      for (Port p : s.ports()) {
        if (p.protocol() == Protocol.UDP) {
          continue;
        }
        String defaultCluster = o.serviceCluster(s, p, Labels.EMPTY);
        if (p.protocol().isHttp()) {
          List<Route> routes = routes(o, s, s.hostname(), p, ctx.routeRules(s.hostname(), o.sources), defaultCluster,
              s.external() ? s.externalName() : null);
          http.add(new HttpHost(s, p, s.key(p, LabelsCollection.ALL), null, routes));
        } else if (s.address() != null && !s.external()) {
          String name = s.address() + "_" + p.port();
          o.listeners.put(name, Listener.newBuilder().setName(name)
              .setAddress(socket(s.address(), p.port()))
              .setBindToPort(BoolValue.of(false))
              .setTrafficDirection(TrafficDirection.OUTBOUND)
              .addFilterChains(FilterChain.newBuilder().addFilters(tcpProxy(name, defaultCluster)))
              .build());
        }
      }
    }
    egress(o, http);
    if (ctx.interner != null) {
      o.clusters.replaceAll((n, v) -> ctx.interner.intern(v));
      o.endpoints.replaceAll((n, v) -> ctx.interner.intern(v));
      o.listeners.replaceAll((n, v) -> ctx.interner.intern(v));
    }
    return new OutboundCore(List.copyOf(o.clusters.values()), List.copyOf(o.endpoints.values()), o.listeners, http);
  }

  /** A sidecar's outbound side for its DNS domain: the core plus virtual hosts, route configurations and HTTP listeners. */
  private ProxyResources outboundView(OutboundCore core, ProxyNode node) {
    TreeMap<Integer, List<VirtualHost>> vhostsByPort = new TreeMap<>();
    Map<Integer, Set<String>> domainsByPort = new TreeMap<>();
    for (HttpHost h : core.http) {
      int port = h.port().port();
      Set<String> used = domainsByPort.computeIfAbsent(port, k -> new HashSet<>());
      List<String> wanted = h.fixedDomains() != null ? h.fixedDomains()
          : sidecarDomains(requireNonNull(h.service(), "service"), h.port(), node.domain());
      List<String> domains = dedupe(wanted, used, h.name());
      if (domains.isEmpty()) {
        continue;
      }
      // A service outside the proxy's namespace has the same domains in every other namespace's
      // view: its virtual host is built once per push.
      // (Not computeIfAbsent: this runs inside one on the same map.)
      MergeKey vk = new MergeKey(h, domains);
      VirtualHost vhost = (VirtualHost) ctx.outbound.get(vk);
      if (vhost == null) {
        vhost = intern(VirtualHost.newBuilder().setName(h.name()).addAllDomains(domains).addAllRoutes(h.routes()).build());
        ctx.outbound.put(vk, vhost);
      }
      vhostsByPort.computeIfAbsent(port, k -> new ArrayList<>()).add(vhost);
    }
    TreeMap<String, Listener> listeners = new TreeMap<>(core.tcpListeners);
    TreeMap<String, RouteConfiguration> routes = new TreeMap<>();
    for (Map.Entry<Integer, List<VirtualHost>> e : vhostsByPort.entrySet()) {
      String routeName = String.valueOf(e.getKey());
      List<VirtualHost> vhosts = new ArrayList<>(e.getValue());
      vhosts.sort((x, y) -> x.getName().compareTo(y.getName()));
      routes.put(routeName, RouteConfiguration.newBuilder().setName(routeName).addAllVirtualHosts(vhosts).build());
      String listenerName = "0.0.0.0_" + e.getKey();
      listeners.put(listenerName, Listener.newBuilder().setName(listenerName)
          .setAddress(socket("0.0.0.0", e.getKey()))
          .setBindToPort(BoolValue.of(false))
          .setTrafficDirection(TrafficDirection.OUTBOUND)
          .addFilterChains(FilterChain.newBuilder().addFilters(hcmFilter(rdsHcm(listenerName, routeName))))
          .build());
    }
    if (ctx.interner != null) {
      listeners.replaceAll((n, v) -> ctx.interner.intern(v));
      routes.replaceAll((n, v) -> ctx.interner.intern(v));
    }
    return new ProxyResources(core.clusters, core.endpoints, List.copyOf(listeners.values()), List.copyOf(routes.values()));
  }

  /** Inbound listeners and clusters for the workloads next to the proxy. */
  private void inbound(Build b) {
    Set<Integer> done = new HashSet<>();
    List<ServiceInstance> sorted = new ArrayList<>(b.sources);
    sorted.sort((x, y) -> Integer.compare(x.endpoint().port(), y.endpoint().port()));
    for (ServiceInstance i : sorted) {
      int port = i.endpoint().port();
      if (!done.add(port) || port == ctx.options.proxyListenPort()) {
        continue;
      }
      String cluster = inboundCluster(port);
      b.clusters.put(cluster, Cluster.newBuilder().setName(cluster).setType(Cluster.DiscoveryType.STATIC)
          .setConnectTimeout(connectTimeout()).setLoadAssignment(staticAssignment(cluster, "127.0.0.1", port)).build());
      String name = b.node.ip() + "_" + port;
      Filter filter;
      Protocol protocol = i.endpoint().servicePort().protocol();
      if (protocol.isHttp()) {
        boolean websocket = false;
        for (Config c : ctx.allRouteRules(i.service().hostname())) {
          websocket |= c.spec(RouteRule.class).getWebsocketUpgrade();
        }
        RouteAction.Builder action = RouteAction.newBuilder().setCluster(cluster);
        if (websocket) {
          action.addUpgradeConfigs(RouteAction.UpgradeConfig.newBuilder().setUpgradeType("websocket").setEnabled(BoolValue.of(true)));
        }
        RouteConfiguration rc = RouteConfiguration.newBuilder().setName(cluster)
            .addVirtualHosts(VirtualHost.newBuilder().setName(cluster).addDomains("*")
                .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/")).setRoute(action)))
            .build();
        filter = hcmFilter(baseHcm(name).setRouteConfig(rc).build());
      } else {
        filter = tcpProxy(name, cluster);
      }
      Listener.Builder l = Listener.newBuilder().setName(name).setAddress(socket(b.node.ip(), port))
          .setBindToPort(BoolValue.of(false)).setTrafficDirection(TrafficDirection.INBOUND);
      inboundChains(l, ctx.mtlsMode(i.service(), i.endpoint().servicePort()), filter, false);
      b.listeners.put(name, l.build());
    }
    for (Port m : ctx.discovery.managementPorts(b.node.ip())) {
      if (!done.add(m.port())) {
        continue;
      }
      String cluster = inboundCluster(m.port());
      b.clusters.put(cluster, Cluster.newBuilder().setName(cluster).setType(Cluster.DiscoveryType.STATIC)
          .setConnectTimeout(connectTimeout()).setLoadAssignment(staticAssignment(cluster, "127.0.0.1", m.port())).build());
      String name = b.node.ip() + "_" + m.port();
      b.listeners.put(name, Listener.newBuilder().setName(name).setAddress(socket(b.node.ip(), m.port()))
          .setBindToPort(BoolValue.of(false)).setTrafficDirection(TrafficDirection.INBOUND)
          .addFilterChains(FilterChain.newBuilder().addFilters(tcpProxy(name, cluster))).build());
    }
  }

  /**
   * Egress rules: per rule port a cluster for the external host (ORIGINAL_DST for wildcards,
   * STRICT_DNS for a plain host; TLS origination on HTTPS ports) and a virtual host on that port.
   */
  private void egress(Build b, List<HttpHost> http) {
    for (Config c : ctx.egressRules) {
      EgressRule rule = c.spec(EgressRule.class);
      String host = rule.getDestination().getService();
      if (host.isEmpty()) {
        continue;
      }
      boolean wildcard = host.startsWith("*");
      for (EgressRule.Port ep : rule.getPortsList()) {
        Optional<Protocol> protocol = Protocol.parse(ep.getProtocol());
        if (protocol.isEmpty() || !(protocol.get().isHttp() || protocol.get() == Protocol.HTTPS)
            || ep.getPort() < 1 || ep.getPort() > 65535) {
          log.warn("{}: egress port {} protocol '{}' is not served (expected HTTP, HTTP2, GRPC or HTTPS)",
              c.key(), ep.getPort(), ep.getProtocol());
          continue;
        }
        String name = outboundCluster(ep.getPort(), Labels.EMPTY, host);
        if (!b.clusters.containsKey(name)) {
          Optional<DestinationPolicy> policy = ctx.policy(host, Labels.EMPTY, b.sources);
          Cluster.Builder cl = Cluster.newBuilder().setName(name).setConnectTimeout(connectTimeout());
          if (wildcard) {
            cl.setType(Cluster.DiscoveryType.ORIGINAL_DST).setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED);
          } else {
            cl.setType(Cluster.DiscoveryType.STRICT_DNS).setLoadAssignment(staticAssignment(name, host, ep.getPort()));
          }
          applyPolicy(cl, policy, !wildcard, b.node.proxyless());
          if (protocol.get() == Protocol.HTTPS) {
            UpstreamTlsContext.Builder tls = UpstreamTlsContext.newBuilder();
            if (!wildcard) {
              tls.setSni(host);
            }
            cl.setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                .setTypedConfig(Any.pack(tls.build())));
          }
          protocolOptions(cl, protocol.get(), policy, wildcard && protocol.get() == Protocol.HTTPS);
          b.clusters.put(name, cl.build());
        }
        String vhostName = host + ":" + ep.getPort();
        Port port = new Port("egress", ep.getPort(), protocol.get());
        List<Route> routes = routes(b, null, host, port, ctx.routeRules(host, b.sources), name, null);
        http.add(new HttpHost(null, port, vhostName, List.of(host, host + ":" + ep.getPort()), routes));
      }
    }
  }

  // ---------------------------------------------------------------- proxyless gRPC

  /**
   * The client view: for every HTTP, HTTP2 and gRPC service port an {@code api_listener} named
   * {@code <hostname>:<port>} whose HttpConnectionManager takes the route configuration of the same
   * name over ADS. Each service port has its own route configuration, so a resource one client
   * rejects does not take every service on that port with it.
   */
  private ProxyResources proxyless(Build b) {
    // The client view is the same for every proxyless node (built without sources: proxyless
    // clients get no source-scoped rules), so every node shares its lists.
    ProxyResources shared = (ProxyResources) ctx.outbound.computeIfAbsent("PROXYLESS", k -> {
      Build o = new Build(b.node, List.of());
      proxylessView(o);
      if (ctx.interner != null) {
        o.clusters.replaceAll((n, v) -> ctx.interner.intern(v));
        o.endpoints.replaceAll((n, v) -> ctx.interner.intern(v));
        o.listeners.replaceAll((n, v) -> ctx.interner.intern(v));
        o.routes.replaceAll((n, v) -> ctx.interner.intern(v));
      }
      return o.result();
    });
    if (b.node.ip().isEmpty()) {
      return shared;
    }
    proxylessServers(b);
    return new ProxyResources(shared.clusters(), shared.endpoints(), merged(shared.listeners(), b.listeners, Listener::getName),
        shared.routes());
  }

  /**
   * The server side of a proxyless node with an IP ({@code proxyless~<ip>~<id>~<domain>}): for each
   * gRPC/HTTP port of the instances at that IP, the listener grpc-java's {@code XdsServerBuilder}
   * asks for ({@link #proxylessServerName}, for the wildcard and the node's address), with an
   * inline route to {@code non_forwarding_action} and the port's mutual TLS mode. gRPC matches
   * filter chains on {@code raw_buffer} only (gRFC A36: no TLS detection), so PERMISSIVE is served
   * to gRPC servers as plaintext.
   */
  private void proxylessServers(Build b) {
    Set<Integer> done = new HashSet<>();
    for (ServiceInstance i : b.sources) {
      Port sp = i.endpoint().servicePort();
      int port = i.endpoint().port();
      if (!sp.protocol().isHttp() || !done.add(port)) {
        continue;
      }
      MtlsMode mode = ctx.mtlsMode(i.service(), sp);
      String routeName = inboundCluster(port);
      HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix(routeName)
          .setRouteConfig(RouteConfiguration.newBuilder().setName(routeName)
              .addVirtualHosts(VirtualHost.newBuilder().setName(routeName).addDomains("*")
                  .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                      .setNonForwardingAction(NonForwardingAction.getDefaultInstance()))))
          .addHttpFilters(HttpFilter.newBuilder().setName(ROUTER_FILTER).setTypedConfig(Any.pack(Router.getDefaultInstance())))
          .build();
      for (String address : List.of("0.0.0.0", b.node.ip())) {
        String name = proxylessServerName(address, port);
        FilterChain.Builder chain = FilterChain.newBuilder().setName(routeName).addFilters(hcmFilter(hcm));
        if (mode == MtlsMode.STRICT) {
          chain.setTransportSocket(tlsSocket(DownstreamTlsContext.newBuilder()
              .setRequireClientCertificate(BoolValue.of(true)).setCommonTlsContext(serverTls(true)).build()));
        }
        b.listeners.put(name, Listener.newBuilder().setName(name).setAddress(socket(address, port))
            .setTrafficDirection(TrafficDirection.INBOUND).addFilterChains(chain).build());
      }
    }
  }

  /**
   * The listener name grpc-java's xDS server asks for with its default
   * {@code server_listener_resource_name_template}: {@code grpc/server?xds.resource.listening_address=<ip>:<port>}.
   */
  public static String proxylessServerName(String address, int port) {
    return "grpc/server?xds.resource.listening_address=" + address + ":" + port;
  }

  // ---------------------------------------------------------------- mutual TLS

  private static TransportSocket tlsSocket(Message context) {
    return TransportSocket.newBuilder().setName(TLS_SOCKET).setTypedConfig(Any.pack(context)).build();
  }

  /**
   * A client's TLS context: sidecars take the certificate ({@code default}) and the root
   * ({@code ROOTCA}) over SDS on the ADS stream; proxyless gRPC clients (no SDS in gRPC) take them
   * from the bootstrap's certificate-provider instance {@code default}. The peer must be one of
   * the destination's service accounts (no pinning when the registry knows none, as 0.2).
   */
  private static CommonTlsContext clientTls(boolean proxyless, List<String> accounts) {
    List<StringMatcher> sans = new ArrayList<>(accounts.size());
    for (String a : accounts) {
      sans.add(StringMatcher.newBuilder().setExact(a).build());
    }
    if (proxyless) {
      // gRPC reads match_subject_alt_names (a URI SAN matches exactly), not the typed variant.
      return proxylessTls().setValidationContext(proxylessValidation().addAllMatchSubjectAltNames(sans)).build();
    }
    CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
    for (StringMatcher m : sans) {
      v.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
          .setSanType(SubjectAltNameMatcher.SanType.URI).setMatcher(m));
    }
    return sidecarTls().setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
        .setDefaultValidationContext(v).setValidationContextSdsSecretConfig(sds(MeshSecurity.ROOT_SECRET))).build();
  }

  /** A server's TLS context: the workload certificate, peers validated against the root. */
  private static CommonTlsContext serverTls(boolean proxyless) {
    if (proxyless) {
      return proxylessTls().setValidationContext(proxylessValidation()).build();
    }
    return sidecarTls().setValidationContextSdsSecretConfig(sds(MeshSecurity.ROOT_SECRET)).build();
  }

  private static CommonTlsContext.Builder sidecarTls() {
    return CommonTlsContext.newBuilder().addTlsCertificateSdsSecretConfigs(sds(MeshSecurity.WORKLOAD_SECRET));
  }

  private static CommonTlsContext.Builder proxylessTls() {
    return CommonTlsContext.newBuilder().setTlsCertificateProviderInstance(CertificateProviderPluginInstance.newBuilder()
        .setInstanceName(MeshSecurity.PROXYLESS_PROVIDER_INSTANCE).setCertificateName(MeshSecurity.WORKLOAD_SECRET));
  }

  private static CertificateValidationContext.Builder proxylessValidation() {
    return CertificateValidationContext.newBuilder().setCaCertificateProviderInstance(CertificateProviderPluginInstance
        .newBuilder().setInstanceName(MeshSecurity.PROXYLESS_PROVIDER_INSTANCE).setCertificateName(MeshSecurity.ROOT_SECRET));
  }

  private static SdsSecretConfig sds(String name) {
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(ADS).build();
  }

  /**
   * The filter chains of a sidecar's inbound listener: DISABLE one plaintext chain; STRICT one
   * chain that requires a client certificate; PERMISSIVE a TLS inspector and two chains, TLS
   * ({@code transport_protocol: tls}) and plaintext ({@code raw_buffer}), so clients with and
   * without a sidecar reach the same port.
   */
  private static void inboundChains(Listener.Builder l, MtlsMode mode, Filter filter, boolean proxyless) {
    FilterChain.Builder plain = FilterChain.newBuilder().addFilters(filter);
    if (mode == MtlsMode.DISABLE) {
      l.addFilterChains(plain);
      return;
    }
    FilterChain.Builder tls = FilterChain.newBuilder().addFilters(filter).setTransportSocket(tlsSocket(
        DownstreamTlsContext.newBuilder().setRequireClientCertificate(BoolValue.of(true))
            .setCommonTlsContext(serverTls(proxyless)).build()));
    if (mode == MtlsMode.STRICT) {
      l.addFilterChains(tls);
      return;
    }
    l.addListenerFilters(ListenerFilter.newBuilder().setName(TLS_INSPECTOR)
        .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())));
    l.addFilterChains(tls.setFilterChainMatch(FilterChainMatch.newBuilder().setTransportProtocol("tls")));
    l.addFilterChains(plain.setFilterChainMatch(FilterChainMatch.newBuilder().setTransportProtocol("raw_buffer")));
  }

  private void proxylessView(Build b) {
    for (Service s : ctx.services) {
      for (Port p : s.ports()) {
        if (!p.protocol().isHttp()) {
          continue;
        }
        String name = proxylessName(s.hostname(), p.port());
        String defaultCluster = b.serviceCluster(s, p, Labels.EMPTY);
        List<Route> routes = routes(b, s, s.hostname(), p, ctx.routeRules(s.hostname(), b.sources), defaultCluster,
            s.external() ? s.externalName() : null);
        b.routes.put(name, RouteConfiguration.newBuilder().setName(name)
            .addVirtualHosts(VirtualHost.newBuilder().setName(name).addDomains(name).addDomains(s.hostname())
                .addAllRoutes(routes))
            .build());
        b.listeners.put(name, Listener.newBuilder().setName(name)
            .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(rdsHcm(name, name))))
            .build());
      }
    }
  }

  // ---------------------------------------------------------------- ingress

  /** An IngressRule's annotation saying the Kubernetes path type it came from (set by pilot/config). */
  static final String INGRESS_PATH_TYPE = "ingress.istio4j.io/path-type";
  static final String TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";

  /**
   * An ingress proxy: IngressRules (made from Kubernetes Ingresses) become a route configuration per
   * ingress port ({@code 80}, and {@code 443} for rules with a TLS secret, as 0.2 split them), a
   * virtual host per host ({@code *} for rules without one), routes in 0.2's path order (exact paths,
   * then regexes, then prefixes longest first; equal matches by precedence, then key: the first
   * wins) to the destination's clusters; route rules for the destination still split the traffic.
   * Port 443 terminates TLS with one filter chain per secret whose SNI {@code server_names} are its
   * hosts (a secret of rules without a host is the default chain), the certificate inlined.
   *
   * <p>A rule whose service or port is unknown, whose port is not HTTP, or whose TLS secret is
   * missing or invalid is not served (refused, never downgraded to plain HTTP): logged, and listed
   * in {@link PushContext#ingressProblems}.
   */
  private void ingress(Build b) {
    TreeMap<Integer, TreeMap<String, List<IngressRoute>>> byPort = new TreeMap<>();
    TreeMap<String, TlsSecret> secretOfHost = new TreeMap<>();
    int order = 0;
    for (Config c : ctx.ingressRules) {
      IngressRule r = c.spec(IngressRule.class);
      String host = ctx.host(c, r.getDestination());
      Service s = ctx.serviceByHost.get(host);
      if (s == null) {
        ingressProblem(c, "service " + host + " is not in the registry");
        continue;
      }
      Optional<Port> port = switch (r.getDestinationServicePortCase()) {
        case DESTINATION_PORT -> s.portNumber(r.getDestinationPort());
        case DESTINATION_PORT_NAME -> s.port(r.getDestinationPortName());
        default -> s.ports().size() == 1 ? Optional.of(s.ports().get(0)) : Optional.empty();
      };
      if (port.isEmpty()) {
        ingressProblem(c, host + " has no port " + switch (r.getDestinationServicePortCase()) {
          case DESTINATION_PORT -> String.valueOf(r.getDestinationPort());
          case DESTINATION_PORT_NAME -> "named '" + r.getDestinationPortName() + "'";
          default -> "(none named, and the service has " + s.ports().size() + ")";
        });
        continue;
      }
      if (!port.get().protocol().isHttp()) {
        ingressProblem(c, host + " port " + port.get().port() + " is " + port.get().protocol() + ", not HTTP");
        continue;
      }
      String authority = "*";
      RouteRule.Builder asRoute = RouteRule.newBuilder().setDestination(r.getDestination());
      if (r.hasMatch()) {
        asRoute.setMatch(r.getMatch());
        StringMatch a = r.getMatch().getRequest().getHeadersMap().get("authority");
        if (a != null && a.hasExact()) {
          authority = a.getExact();
          asRoute.getMatchBuilder().getRequestBuilder().removeHeaders("authority");
        }
      }
      int ingressPort = r.getTlsSecret().isEmpty() ? 80 : 443;
      if (ingressPort == 443) {
        TlsSecret secret = ctx.ingressSecrets.get(r.getTlsSecret());
        if (secret == null) {
          ingressProblem(c, "TLS secret " + r.getTlsSecret() + " is missing or invalid; host " + authority
              + " is not served until it is valid");
          continue;
        }
        TlsSecret first = secretOfHost.putIfAbsent(authority, secret);
        if (first != null && !first.reference().equals(secret.reference())) {
          ingressProblem(c, "host " + authority + " already uses TLS secret " + first.reference() + "; "
              + secret.reference() + " is ignored for it");
        }
      }
      String defaultCluster = b.serviceCluster(s, port.get(), Labels.EMPTY);
      Route route = routeFor(b, c, asRoute.build(), s, host, port.get(), defaultCluster, null);
      if (route == null) {
        ingressProblem(c, "its match cannot be expressed");
        continue;
      }
      String pathType = c.meta().annotations().getOrDefault(INGRESS_PATH_TYPE, "");
      String prefix = route.getMatch().getPrefix();
      if (pathType.equals("Prefix") && route.getMatch().hasPrefix() && !prefix.equals("/") && !prefix.endsWith("/")
          && prefix.indexOf('?') < 0 && prefix.indexOf('#') < 0) {
        // Kubernetes' Prefix matches whole path elements: /foo is /foo and /foo/..., not /foobar.
        route = route.toBuilder().setMatch(route.getMatch().toBuilder()
            .setPathSeparatedPrefix(prefix)).build();
      }
      // Route rules for the destination decide the split, as 0.2's ingress did.
      for (Config rc : ctx.routeRules(host, b.sources)) {
        RouteRule rr = rc.spec(RouteRule.class);
        if (!rr.hasMatch() || !rr.getMatch().hasRequest()) {
          Route split = routeFor(b, rc, rr, s, host, port.get(), defaultCluster, null);
          if (split != null && split.hasRoute()) {
            route = route.toBuilder().setRoute(split.getRoute()).build();
          }
          break;
        }
      }
      byPort.computeIfAbsent(ingressPort, k -> new TreeMap<>()).computeIfAbsent(authority, k -> new ArrayList<>())
          .add(new IngressRoute(c, route, order++));
    }
    for (Map.Entry<Integer, TreeMap<String, List<IngressRoute>>> e : byPort.entrySet()) {
      int ingressPort = e.getKey();
      String routeName = String.valueOf(ingressPort);
      RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(routeName);
      for (Map.Entry<String, List<IngressRoute>> v : e.getValue().entrySet()) {
        VirtualHost.Builder vh = VirtualHost.newBuilder().setName(v.getKey()).addDomains(v.getKey());
        if (!v.getKey().equals("*")) {
          vh.addDomains(v.getKey() + ":" + ingressPort);
        }
        rc.addVirtualHosts(vh.addAllRoutes(ingressRoutes(v.getKey(), v.getValue())));
      }
      b.routes.put(routeName, rc.build());
      String name = "0.0.0.0_" + ingressPort;
      Listener.Builder listener = Listener.newBuilder().setName(name).setAddress(socket("0.0.0.0", ingressPort))
          .setTrafficDirection(TrafficDirection.OUTBOUND);
      if (ingressPort == 443) {
        tlsFilterChains(listener, name, routeName, e.getValue().keySet(), secretOfHost);
      } else {
        listener.addFilterChains(FilterChain.newBuilder().addFilters(hcmFilter(rdsHcm(name, routeName))));
      }
      b.listeners.put(name, listener.build());
    }
  }

  /** A route of an ingress virtual host and where its rule stood in precedence-then-key order. */
  private record IngressRoute(Config config, Route route, int order) {}

  /**
   * 0.2's RoutesByPath order (exact paths ascending, then prefixes descending so that a longer prefix
   * comes before a shorter one it starts with), regexes between the two; equal matches keep rule
   * order, and every one after the first is unreachable, so it is dropped and reported.
   */
  private List<Route> ingressRoutes(String host, List<IngressRoute> routes) {
    List<IngressRoute> sorted = new ArrayList<>(routes);
    sorted.sort((x, y) -> {
      RouteMatch a = x.route().getMatch();
      RouteMatch m = y.route().getMatch();
      int ka = pathKind(a);
      int km = pathKind(m);
      if (ka != km) {
        return Integer.compare(ka, km);
      }
      int byPath = ka == 2 ? pathOf(m).compareTo(pathOf(a)) : pathOf(a).compareTo(pathOf(m));
      return byPath != 0 ? byPath : Integer.compare(x.order(), y.order());
    });
    List<Route> out = new ArrayList<>(sorted.size());
    Map<RouteMatch, IngressRoute> taken = new HashMap<>();
    for (IngressRoute r : sorted) {
      IngressRoute first = taken.putIfAbsent(r.route().getMatch(), r);
      if (first != null) {
        ingressProblem(r.config(), "host " + host + " path " + pathOf(r.route().getMatch()) + " is already routed by "
            + first.config().key() + " (it comes first by precedence, then name)");
        continue;
      }
      out.add(r.route());
    }
    return out;
  }

  private static int pathKind(RouteMatch m) {
    return m.hasPath() ? 0 : m.hasSafeRegex() ? 1 : 2;
  }

  private static String pathOf(RouteMatch m) {
    return switch (m.getPathSpecifierCase()) {
      case PATH -> m.getPath();
      case SAFE_REGEX -> m.getSafeRegex().getRegex();
      case PATH_SEPARATED_PREFIX -> m.getPathSeparatedPrefix();
      default -> m.getPrefix();
    };
  }

  /**
   * One filter chain per TLS secret, matching the SNI names of the hosts that use it; the secret of
   * the {@code *} host (rules without a host) is the chain for clients sending no SNI or an unknown name.
   */
  private static void tlsFilterChains(Listener.Builder listener, String name, String routeName, Set<String> hosts,
      Map<String, TlsSecret> secretOfHost) {
    TreeMap<String, List<String>> hostsOfSecret = new TreeMap<>();
    Map<String, TlsSecret> byRef = new HashMap<>();
    for (String h : hosts) {
      TlsSecret secret = secretOfHost.get(h);
      hostsOfSecret.computeIfAbsent(secret.reference(), k -> new ArrayList<>()).add(h);
      byRef.put(secret.reference(), secret);
    }
    for (Map.Entry<String, List<String>> e : hostsOfSecret.entrySet()) {
      TlsSecret secret = byRef.get(e.getKey());
      List<String> serverNames = new ArrayList<>(e.getValue());
      boolean isDefault = serverNames.remove("*");
      DownstreamTlsContext tls = DownstreamTlsContext.newBuilder().setCommonTlsContext(CommonTlsContext.newBuilder()
          .addTlsCertificates(TlsCertificate.newBuilder()
              .setCertificateChain(DataSource.newBuilder().setInlineString(secret.certificateChain()))
              .setPrivateKey(DataSource.newBuilder().setInlineString(secret.privateKey())))
          .addAlpnProtocols("h2").addAlpnProtocols("http/1.1"))
          .build();
      if (!serverNames.isEmpty()) {
        listener.addFilterChains(FilterChain.newBuilder().setName(name + "|" + e.getKey())
            .setFilterChainMatch(FilterChainMatch.newBuilder().addAllServerNames(serverNames))
            .addFilters(hcmFilter(rdsHcm(name, routeName)))
            .setTransportSocket(tlsSocket(tls)));
      }
      if (isDefault) {
        listener.addFilterChains(FilterChain.newBuilder().setName(name + "|" + e.getKey() + "|default")
            .addFilters(hcmFilter(rdsHcm(name, routeName))).setTransportSocket(tlsSocket(tls)));
      }
    }
    // SNI is read from the ClientHello before a chain is chosen.
    listener.addListenerFilters(ListenerFilter.newBuilder().setName(TLS_INSPECTOR)
        .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())));
  }

  private static TransportSocket tlsSocket(DownstreamTlsContext tls) {
    return TransportSocket.newBuilder().setName(TLS_TRANSPORT_SOCKET).setTypedConfig(Any.pack(tls)).build();
  }

  private void ingressProblem(Config c, String problem) {
    String line = c.key() + ": " + problem;
    if (ctx.ingressProblems.add(line)) {
      log.warn("ingress {}: not served: {}", c.key(), problem);
    }
  }

  // ---------------------------------------------------------------- routes

  /**
   * The routes of one virtual host: a route per applicable rule in precedence order, stopping after
   * a catch-all (no header conditions, prefix "/"); otherwise a default route to the service's
   * unlabelled cluster last.
   */
  private List<Route> routes(Build b, @Nullable Service s, String host, Port p, List<Config> rules, String defaultCluster,
      @Nullable String hostRewrite) {
    List<Route> out = new ArrayList<>();
    boolean catchAll = false;
    for (Config c : rules) {
      Route r = routeFor(b, c, c.spec(RouteRule.class), s, host, p, defaultCluster, hostRewrite);
      if (r == null) {
        continue;
      }
      out.add(r);
      if (r.getMatch().getHeadersCount() == 0 && r.getMatch().getPrefix().equals("/")) {
        catchAll = true;
        break;
      }
    }
    if (!catchAll) {
      RouteAction.Builder action = RouteAction.newBuilder().setCluster(defaultCluster);
      if (hostRewrite != null) {
        action.setHostRewriteLiteral(hostRewrite);
      }
      out.add(Route.newBuilder().setName("default").setMatch(RouteMatch.newBuilder().setPrefix("/")).setRoute(action).build());
    }
    return out;
  }

  /** One rule as a route, or null when the rule cannot be expressed (logged). */
  private @Nullable Route routeFor(Build b, Config c, RouteRule rule, @Nullable Service s, String host, Port p,
      String defaultCluster, @Nullable String hostRewrite) {
    Route.Builder route = Route.newBuilder().setName(c.meta().namespace() + "/" + c.meta().name());
    RouteMatch.Builder match = RouteMatch.newBuilder().setPrefix("/");
    if (rule.hasMatch() && rule.getMatch().hasRequest()) {
      TreeMap<String, StringMatch> headers = new TreeMap<>(rule.getMatch().getRequest().getHeadersMap());
      StringMatch uri = headers.remove("uri");
      if (uri != null) {
        switch (uri.getMatchTypeCase()) {
          case EXACT -> match.setPath(uri.getExact());
          case PREFIX -> match.setPrefix(uri.getPrefix());
          case REGEX -> {
            if (!validRegex(c, "uri", uri.getRegex())) {
              return null;
            }
            match.setSafeRegex(regex(uri.getRegex()));
          }
          default -> { }
        }
      }
      for (Map.Entry<String, StringMatch> h : headers.entrySet()) {
        String name = h.getKey().toLowerCase(Locale.ROOT);
        if (name.equals("method") || name.equals("authority") || name.equals("scheme")) {
          name = ":" + name;
        }
        StringMatcher.Builder sm = StringMatcher.newBuilder();
        StringMatch m = h.getValue();
        switch (m.getMatchTypeCase()) {
          case EXACT -> sm.setExact(m.getExact());
          case PREFIX -> sm.setPrefix(m.getPrefix());
          case REGEX -> {
            if (!validRegex(c, h.getKey(), m.getRegex())) {
              return null;
            }
            sm.setSafeRegex(regex(m.getRegex()));
          }
          default -> {
            log.warn("{}: header {} has no exact, prefix or regex; rule skipped", c.key(), h.getKey());
            return null;
          }
        }
        match.addHeaders(HeaderMatcher.newBuilder().setName(name).setStringMatch(sm));
      }
    }
    route.setMatch(match);

    if (rule.hasRedirect()) {
      RedirectAction.Builder redirect = RedirectAction.newBuilder()
          .setResponseCode(RedirectAction.RedirectResponseCode.FOUND);
      if (!rule.getRedirect().getUri().isEmpty()) {
        redirect.setPathRedirect(rule.getRedirect().getUri());
      }
      if (!rule.getRedirect().getAuthority().isEmpty()) {
        redirect.setHostRedirect(rule.getRedirect().getAuthority());
      }
      return route.setRedirect(redirect).build();
    }

    RouteAction.Builder action = RouteAction.newBuilder();
    List<DestinationWeight> weights = new ArrayList<>();
    for (DestinationWeight w : rule.getRouteList()) {
      if (rule.getRouteCount() == 1 || w.getWeight() > 0) {
        weights.add(w);
      }
    }
    if (weights.isEmpty()) {
      action.setCluster(defaultCluster);
    } else if (weights.size() == 1) {
      String cluster = target(b, c, weights.get(0), s, p, defaultCluster);
      if (cluster == null) {
        return null;
      }
      action.setCluster(cluster);
    } else {
      WeightedCluster.Builder wc = WeightedCluster.newBuilder();
      for (DestinationWeight w : weights) {
        String cluster = target(b, c, w, s, p, defaultCluster);
        if (cluster == null) {
          return null;
        }
        wc.addClusters(WeightedCluster.ClusterWeight.newBuilder().setName(cluster).setWeight(UInt32Value.of(w.getWeight())));
      }
      action.setWeightedClusters(wc);
    }
    if (rule.hasRewrite()) {
      if (!rule.getRewrite().getUri().isEmpty()) {
        action.setPrefixRewrite(rule.getRewrite().getUri());
      }
      if (!rule.getRewrite().getAuthority().isEmpty()) {
        action.setHostRewriteLiteral(rule.getRewrite().getAuthority());
      }
    }
    if (!action.hasHostRewriteLiteral() && hostRewrite != null) {
      action.setHostRewriteLiteral(hostRewrite);
    }
    if (rule.hasHttpReqTimeout() && rule.getHttpReqTimeout().hasSimpleTimeout()) {
      Duration t = rule.getHttpReqTimeout().getSimpleTimeout().getTimeout();
      if (positive(t)) {
        action.setTimeout(t);
        // gRPC clients read the deadline from max_stream_duration, not from timeout.
        action.setMaxStreamDuration(RouteAction.MaxStreamDuration.newBuilder().setMaxStreamDuration(t));
      }
    }
    if (rule.hasHttpReqRetries() && rule.getHttpReqRetries().hasSimpleRetry()) {
      var retry = rule.getHttpReqRetries().getSimpleRetry();
      if (retry.getAttempts() > 0) {
        RetryPolicy.Builder rp = RetryPolicy.newBuilder().setRetryOn(RETRY_ON)
            .setNumRetries(UInt32Value.of(retry.getAttempts()));
        if (positive(retry.getPerTryTimeout())) {
          rp.setPerTryTimeout(retry.getPerTryTimeout());
        }
        action.setRetryPolicy(rp);
      }
    }
    if (rule.getWebsocketUpgrade()) {
      action.addUpgradeConfigs(RouteAction.UpgradeConfig.newBuilder().setUpgradeType("websocket").setEnabled(BoolValue.of(true)));
    }
    route.setRoute(action);
    if (rule.hasHttpFault()) {
      HTTPFault fault = fault(c, rule.getHttpFault());
      if (fault != null) {
        route.putTypedPerFilterConfig(FAULT_FILTER, Any.pack(fault));
      }
    }
    return route.build();
  }

  /** The cluster a weight entry names: the destination's (or the rule's) service, same port, its labels. */
  private @Nullable String target(Build b, Config c, DestinationWeight w, @Nullable Service s, Port p, String defaultCluster) {
    if (s == null) {
      // Egress destinations have one cluster per port; labels do not apply.
      return defaultCluster;
    }
    Service target = s;
    if (w.hasDestination()) {
      String host = ctx.host(c, w.getDestination());
      target = ctx.serviceByHost.get(host);
      if (target == null) {
        log.warn("{}: route destination {} is not in the registry; rule skipped", c.key(), host);
        return null;
      }
    }
    Service t = target;
    Port port = t.port(p.name()).or(() -> t.portNumber(p.port())).orElse(null);
    if (port == null) {
      log.warn("{}: {} has no port {} ({}); rule skipped", c.key(), target.hostname(), p.name(), p.port());
      return null;
    }
    return b.serviceCluster(target, port, Labels.of(w.getLabelsMap()));
  }

  /** 0.2's fault injection as Envoy's (and gRPC's) HTTPFault, or null when nothing can be expressed. */
  private static @Nullable HTTPFault fault(Config c, HTTPFaultInjection f) {
    HTTPFault.Builder out = HTTPFault.newBuilder();
    if (f.hasDelay()) {
      HTTPFaultInjection.Delay d = f.getDelay();
      if (d.hasFixedDelay() && positive(d.getFixedDelay())) {
        out.setDelay(FaultDelay.newBuilder().setFixedDelay(d.getFixedDelay()).setPercentage(percent(d.getPercent())));
      } else {
        log.warn("{}: only fixed delays are injected; delay ignored", c.key());
      }
    }
    if (f.hasAbort()) {
      HTTPFaultInjection.Abort a = f.getAbort();
      FaultAbort.Builder abort = FaultAbort.newBuilder().setPercentage(percent(a.getPercent()));
      switch (a.getErrorTypeCase()) {
        case HTTP_STATUS -> {
          if (a.getHttpStatus() >= 200 && a.getHttpStatus() < 600) {
            out.setAbort(abort.setHttpStatus(a.getHttpStatus()));
          } else {
            log.warn("{}: abort http status {} is not in 200..599; abort ignored", c.key(), a.getHttpStatus());
          }
        }
        case GRPC_STATUS -> {
          Integer code = grpcCode(a.getGrpcStatus());
          if (code != null) {
            out.setAbort(abort.setGrpcStatus(code));
          } else {
            log.warn("{}: abort grpc status '{}' is not a gRPC status; abort ignored", c.key(), a.getGrpcStatus());
          }
        }
        default -> log.warn("{}: only http_status and grpc_status aborts are injected; abort ignored", c.key());
      }
    }
    return out.hasDelay() || out.hasAbort() ? out.build() : null;
  }

  private static @Nullable Integer grpcCode(String s) {
    String t = s.trim();
    try {
      int n = Integer.parseInt(t);
      return n >= 0 && n <= 16 ? n : null;
    } catch (NumberFormatException e) {
      try {
        return Status.Code.valueOf(t.toUpperCase(Locale.ROOT)).value();
      } catch (IllegalArgumentException e2) {
        return null;
      }
    }
  }

  /** A 0..100 float percent as a fraction of a million (keeps 0.2's fractional percents). */
  static FractionalPercent percent(float percent) {
    double p = Math.max(0, Math.min(100, percent));
    return FractionalPercent.newBuilder().setNumerator((int) Math.round(p * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION).build();
  }

  private static boolean validRegex(Config c, String header, String regex) {
    try {
      Pattern.compile(regex);
      return true;
    } catch (PatternSyntaxException e) {
      log.warn("{}: regex of {} is not RE2 ({}); rule skipped", c.key(), header, e.getMessage());
      return false;
    }
  }

  private static RegexMatcher regex(String regex) {
    return RegexMatcher.newBuilder().setRegex(regex).build();
  }

  // ---------------------------------------------------------------- clusters

  /**
   * Load balancing for gRPC clients, as a list they pick the first supported entry of (gRFC A52):
   * the policy asked for, then round robin. gRPC has no RANDOM balancer at all, and grpc-js has no
   * least-request one: the old {@code lb_policy} enum made grpc-java reject RANDOM clusters and
   * grpc-js reject both, so a DestinationPolicy took the service away from those clients. The list
   * lets each client take the closest policy it has (round robin spreads load as evenly as random).
   */
  private static LoadBalancingPolicy proxylessLb(LoadBalancing.SimpleLBPolicy name) {
    LoadBalancingPolicy.Builder l = LoadBalancingPolicy.newBuilder();
    if (name == LoadBalancing.SimpleLBPolicy.LEAST_CONN) {
      l.addPolicies(lbPolicy("envoy.load_balancing_policies.least_request", Any.pack(LeastRequest.getDefaultInstance())));
    } else if (name == LoadBalancing.SimpleLBPolicy.RANDOM) {
      l.addPolicies(lbPolicy("envoy.load_balancing_policies.random", Any.pack(Random.getDefaultInstance())));
    }
    l.addPolicies(lbPolicy("envoy.load_balancing_policies.round_robin", Any.pack(RoundRobin.getDefaultInstance())));
    return l.build();
  }

  private static LoadBalancingPolicy.Policy lbPolicy(String name, Any config) {
    return LoadBalancingPolicy.Policy.newBuilder()
        .setTypedExtensionConfig(TypedExtensionConfig.newBuilder().setName(name).setTypedConfig(config)).build();
  }

  /** A destination policy's load balancing, circuit breaker and outlier detection. */
  private static void applyPolicy(Cluster.Builder c, Optional<DestinationPolicy> policy, boolean lb, boolean proxyless) {
    if (policy.isEmpty()) {
      return;
    }
    DestinationPolicy p = policy.get();
    if (lb && proxyless && p.hasLoadBalancing() && p.getLoadBalancing().hasName()
        && p.getLoadBalancing().getName() != LoadBalancing.SimpleLBPolicy.ROUND_ROBIN) {
      c.setLoadBalancingPolicy(proxylessLb(p.getLoadBalancing().getName()));
    } else if (lb && p.hasLoadBalancing() && p.getLoadBalancing().hasName()) {
      switch (p.getLoadBalancing().getName()) {
        case LEAST_CONN -> c.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
        case RANDOM -> c.setLbPolicy(Cluster.LbPolicy.RANDOM);
        default -> c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
      }
    }
    if (!p.hasCircuitBreaker() || !p.getCircuitBreaker().hasSimpleCb()) {
      return;
    }
    CircuitBreaker.SimpleCircuitBreakerPolicy cb = p.getCircuitBreaker().getSimpleCb();
    CircuitBreakers.Thresholds.Builder t = CircuitBreakers.Thresholds.newBuilder().setPriority(RoutingPriority.DEFAULT);
    boolean any = false;
    if (cb.getMaxConnections() > 0) {
      t.setMaxConnections(UInt32Value.of(cb.getMaxConnections()));
      any = true;
    }
    if (cb.getHttpMaxPendingRequests() > 0) {
      t.setMaxPendingRequests(UInt32Value.of(cb.getHttpMaxPendingRequests()));
      any = true;
    }
    if (cb.getHttpMaxRequests() > 0) {
      t.setMaxRequests(UInt32Value.of(cb.getHttpMaxRequests()));
      any = true;
    }
    if (any) {
      c.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(t));
    }
    OutlierDetection.Builder od = OutlierDetection.newBuilder();
    boolean outlier = false;
    if (cb.getHttpConsecutiveErrors() > 0) {
      od.setConsecutive5Xx(UInt32Value.of(cb.getHttpConsecutiveErrors()));
      outlier = true;
    }
    if (positive(cb.getHttpDetectionInterval())) {
      od.setInterval(cb.getHttpDetectionInterval());
      outlier = true;
    }
    if (positive(cb.getSleepWindow())) {
      od.setBaseEjectionTime(cb.getSleepWindow());
      outlier = true;
    }
    if (cb.getHttpMaxEjectionPercent() > 0) {
      od.setMaxEjectionPercent(UInt32Value.of(Math.min(100, cb.getHttpMaxEjectionPercent())));
      outlier = true;
    }
    if (outlier) {
      if (!od.hasMaxEjectionPercent()) {
        od.setMaxEjectionPercent(UInt32Value.of(10));
      }
      c.setOutlierDetection(od);
    }
  }

  /**
   * HTTP protocol options: HTTP/2 upstream for HTTP2 and gRPC ports, the policy's
   * max_requests_per_connection (1 disables keep-alive), SNI from the Host header for TLS to wildcard
   * egress hosts.
   */
  private static void protocolOptions(Cluster.Builder c, Protocol protocol, Optional<DestinationPolicy> policy,
      boolean autoSni) {
    int perConnection = policy.filter(p -> p.hasCircuitBreaker() && p.getCircuitBreaker().hasSimpleCb())
        .map(p -> p.getCircuitBreaker().getSimpleCb().getHttpMaxRequestsPerConnection()).orElse(0);
    if (!protocol.isHttp2() && perConnection <= 0 && !autoSni) {
      return;
    }
    var options = io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder();
    var explicit = ExplicitHttpConfig.newBuilder();
    if (protocol.isHttp2()) {
      explicit.setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance());
    } else {
      explicit.setHttpProtocolOptions(Http1ProtocolOptions.getDefaultInstance());
    }
    options.setExplicitHttpConfig(explicit);
    if (perConnection > 0) {
      options.setCommonHttpProtocolOptions(HttpProtocolOptions.newBuilder()
          .setMaxRequestsPerConnection(UInt32Value.of(perConnection)));
    }
    if (autoSni) {
      options.setUpstreamHttpProtocolOptions(UpstreamHttpProtocolOptions.newBuilder().setAutoSni(true));
    }
    c.putTypedExtensionProtocolOptions(HTTP_OPTIONS_KEY, Any.pack(options.build()));
  }

  private Duration connectTimeout() {
    return Durations.fromNanos(ctx.options.connectTimeout().toNanos());
  }

  private static ClusterLoadAssignment staticAssignment(String cluster, String host, int port) {
    return ClusterLoadAssignment.newBuilder().setClusterName(cluster)
        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
            .setEndpoint(Endpoint.newBuilder().setAddress(socket(host, port)))))
        .build();
  }

  // ---------------------------------------------------------------- listeners

  private static Address socket(String host, int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port)).build();
  }

  private static HttpConnectionManager.Builder baseHcm(String statPrefix) {
    return HttpConnectionManager.newBuilder()
        .setStatPrefix(statPrefix)
        .setCodecType(HttpConnectionManager.CodecType.AUTO)
        // An empty fault filter: routes carry their faults in typed_per_filter_config.
        .addHttpFilters(HttpFilter.newBuilder().setName(FAULT_FILTER).setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())))
        .addHttpFilters(HttpFilter.newBuilder().setName(ROUTER_FILTER).setTypedConfig(Any.pack(Router.getDefaultInstance())));
  }

  private static HttpConnectionManager rdsHcm(String statPrefix, String routeName) {
    return baseHcm(statPrefix).setRds(Rds.newBuilder().setConfigSource(ADS).setRouteConfigName(routeName)).build();
  }

  private static Filter hcmFilter(HttpConnectionManager hcm) {
    return Filter.newBuilder().setName(HCM_FILTER).setTypedConfig(Any.pack(hcm)).build();
  }

  private static Filter tcpProxy(String statPrefix, String cluster) {
    return Filter.newBuilder().setName(TCP_PROXY_FILTER)
        .setTypedConfig(Any.pack(TcpProxy.newBuilder().setStatPrefix(statPrefix).setCluster(cluster).build())).build();
  }

  // ---------------------------------------------------------------- domains

  /**
   * Upstream's virtual-host domains: the hostname's short forms relative to the proxy's domain
   * ({@code hello}, {@code hello.default}, ... the FQDN), then the VIP, each with and without
   * {@code :port}.
   */
  static List<String> sidecarDomains(Service s, Port p, String proxyDomain) {
    String[] parts = s.hostname().split("\\.");
    String[] domain = proxyDomain.isEmpty() ? new String[0] : proxyDomain.split("\\.");
    int shared = 0;
    while (shared < parts.length - 1 && shared < domain.length
        && parts[parts.length - 1 - shared].equals(domain[domain.length - 1 - shared])) {
      shared++;
    }
    List<String> hosts = new ArrayList<>();
    StringBuilder host = new StringBuilder(String.join(".", Arrays.copyOfRange(parts, 0, parts.length - shared)));
    hosts.add(host.toString());
    for (int i = parts.length - shared; i < parts.length; i++) {
      host.append('.').append(parts[i]);
      hosts.add(host.toString());
    }
    if (s.address() != null && !s.address().isEmpty()) {
      hosts.add(s.address());
    }
    List<String> out = new ArrayList<>(hosts.size() * 2);
    for (String h : hosts) {
      out.add(h + ":" + p.port());
      out.add(h);
    }
    return out;
  }

  /** Drops domains an earlier virtual host of the same route configuration took (Envoy rejects duplicates). */
  private static List<String> dedupe(List<String> domains, Set<String> used, String owner) {
    List<String> out = new ArrayList<>(domains.size());
    for (String d : domains) {
      if (used.add(d)) {
        out.add(d);
      } else {
        log.debug("domain {} of {} is already served by another virtual host on the port", d, owner);
      }
    }
    return out;
  }

  private static boolean positive(Duration d) {
    return d.getSeconds() > 0 || (d.getSeconds() == 0 && d.getNanos() > 0);
  }
}

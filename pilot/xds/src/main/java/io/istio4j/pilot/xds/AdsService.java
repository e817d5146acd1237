package io.istio4j.pilot.xds;

import com.google.protobuf.Any;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.serializer.ProtoResourcesSerializer;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ADS service clients talk to: a layer over java-control-plane's that (1) parses the node id of
 * the first request and registers the client, so its snapshot exists before its first watch, (2)
 * copies the node into later requests, because clients (grpc-java among them) send it only once
 * per stream while the cache groups every request by node, (3) keeps per-client ACK/NACK state and
 * logs and counts NACKs with their resources and reason, and (4) answers state-of-the-world EDS
 * itself (see {@link #publishEds}): an endpoint change costs each subscribed client work in
 * proportion to the assignments that changed, not to the thousand it subscribes to, which is what
 * the stock cache's per-watch response and name bookkeeping cost.
 */
final class AdsService extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(AdsService.class);

  private static final String EDS_TYPE = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  private static final String RDS_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  /**
   * The send executor java-control-plane picked for the stream being created on this thread (it
   * asks for one while {@code streamAggregatedResources} runs): EDS responses of the stream go
   * through the same single-thread executor, so they stay in order with the cache's responses.
   */
  static final ThreadLocal<Executor> PICKED = new ThreadLocal<>();

  private final AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase delegate;
  private final XdsServer server;
  private final ProtoResourcesSerializer serializer;
  private final AtomicLong ids = new AtomicLong();
  final Map<Long, Client> clients = new ConcurrentHashMap<>();
  /** State-of-the-world clients by snapshot group, for EDS pushes. */
  private final Map<String, Set<Client>> byGroup = new ConcurrentHashMap<>();
  /** Each group's endpoint assignments as last published. */
  private final Map<String, EdsView> edsViews = new ConcurrentHashMap<>();

  /** A group's endpoint assignments by name, and the version they are served under. */
  record EdsView(String version, Map<String, ClusterLoadAssignment> byName) {}

  AdsService(AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase delegate, XdsServer server,
      ProtoResourcesSerializer serializer) {
    this.delegate = delegate;
    this.server = server;
    this.serializer = serializer;
  }

  /** One open stream's state. */
  static final class Client {
    final long id;
    final Instant since = Instant.now();
    final String peer;
    volatile @Nullable ProxyNode node;
    volatile @Nullable Node protoNode;
    volatile String group = "";
    final Map<String, TypeState> types = new ConcurrentHashMap<>();
    volatile ClientStatus.@Nullable Nack lastNack;
    /** RDS resources last sent on this stream (the whole state of the world, in order), guarded by this. */
    final Map<String, List<Any>> sent = new HashMap<>();
    /** The stream's send executor (single thread): EDS state below is only touched there. */
    @Nullable Executor executor;
    @Nullable Tracking tracking;
    /** Whether the client has sent an EDS request yet. */
    boolean edsRequested;
    /** The subscribed assignment names; null subscribes to all (an EDS request without names). */
    @Nullable Set<String> edsNames;
    /** The assignment instance last sent for each name (interned: compared by reference). */
    final Map<String, ClusterLoadAssignment> edsSent = new HashMap<>();
    long edsNonce;
    /** After a NACK: the next response carries every subscribed assignment, whatever changed. */
    boolean edsResync;

    Client(long id, String peer) {
      this.id = id;
      this.peer = peer;
    }

    TypeState type(String typeUrl) {
      return types.computeIfAbsent(XdsStats.shortType(typeUrl), k -> new TypeState());
    }

    ClientStatus status() {
      Map<String, ClientStatus.TypeStatus> t = new TreeMap<>();
      types.forEach((k, v) -> t.put(k, new ClientStatus.TypeStatus(v.sentVersion, v.sentNonce, v.ackedVersion, v.ackedNonce, v.nacks)));
      ProxyNode n = node;
      return new ClientStatus(n == null ? "" : n.nodeId(), n == null ? "" : n.type().name().toLowerCase(Locale.ROOT),
          group, peer, since.toString(), t, lastNack);
    }
  }

  /** Sent and acknowledged versions of one type on one stream. */
  static final class TypeState {
    volatile String sentVersion = "";
    volatile String sentNonce = "";
    volatile String ackedVersion = "";
    volatile String ackedNonce = "";
    volatile long nacks;
    /**
     * The names of the previous request as sent: compared in place when they repeat (every ACK),
     * and the latest request's own list, so no second copy of a thousand names is kept per client.
     */
    volatile List<String> lastList = List.of();
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
    Client client = new Client(ids.incrementAndGet(), peer());
    Tracking tracking = new Tracking(responses, client);
    StreamObserver<DiscoveryRequest> requests;
    try {
      requests = delegate.streamAggregatedResources(tracking);
      client.executor = PICKED.get();
    } finally {
      PICKED.remove();
    }
    client.tracking = tracking;
    if (responses instanceof ServerCallStreamObserver<DiscoveryResponse> call) {
      // The control plane sets its cancel handler only on the call's own observer; ours wraps it.
      call.setOnCancelHandler(() -> {
        tracking.cancelled = true;
        // Cancel the cache's watches first, so the group's snapshot can be cleared after.
        requests.onError(Status.CANCELLED.withDescription("client cancelled").asRuntimeException());
        unregister(client);
      });
    }
    return new StreamObserver<>() {
      private boolean closed;

      @Override
      public void onNext(DiscoveryRequest request) {
        if (closed) {
          return;
        }
        DiscoveryRequest r = request;
        if (client.node == null) {
          ProxyNode node;
          try {
            node = ProxyNode.parse(request.getNode().getId());
          } catch (IllegalArgumentException e) {
            log.warn("ADS stream {} from {} refused: {}", client.id, client.peer, e.getMessage());
            closed = true;
            requests.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
          }
          client.node = node;
          client.protoNode = request.getNode();
          client.group = XdsServer.groupKey(node);
          clients.put(client.id, client);
          server.register(node);
          byGroup.computeIfAbsent(client.group, k -> ConcurrentHashMap.newKeySet()).add(client);
          log.info("ADS stream {} opened by {} ({}) from {}", client.id, node.nodeId(), node.type(), client.peer);
        } else if (!request.hasNode()) {
          r = request.toBuilder().setNode(client.protoNode).build();
        }
        if (r.getTypeUrl().equals(EDS_TYPE) && client.executor != null) {
          DiscoveryRequest eds = r;
          client.executor.execute(() -> onEdsRequest(client, eds));
          return;
        }
        requests.onNext(account(client, r));
      }

      @Override
      public void onError(Throwable t) {
        requests.onError(t);
        unregister(client);
      }

      @Override
      public void onCompleted() {
        requests.onCompleted();
        unregister(client);
      }
    };
  }

  // ---------------------------------------------------------------- EDS

  /**
   * A group's endpoint assignments changed: each of its state-of-the-world clients gets, on its own
   * send executor, the assignments among {@code names} it subscribes to and was not sent in this
   * form yet ({@code names} null: any of its subscriptions), plus those in {@code forced} it
   * subscribes to, sent again whatever it has. {@code forced} are the assignments of clusters the
   * push changed: a client re-initialising a changed cluster waits for its endpoints (Envoy warms
   * an updated EDS cluster anew), so they follow the CDS response (queued first, by the cache, on
   * the same executor). Called by the push thread.
   */
  void publishEds(String group, EdsView view, @Nullable Set<String> names, Set<String> forced) {
    edsViews.put(group, view);
    if (names != null && names.isEmpty() && forced.isEmpty()) {
      return;
    }
    Set<Client> members = byGroup.get(group);
    if (members == null) {
      return;
    }
    for (Client c : members) {
      Executor e = c.executor;
      if (e == null) {
        continue;
      }
      try {
        e.execute(() -> sendEds(c, names, forced));
      } catch (RejectedExecutionException ex) {
        return; // closing
      }
    }
  }

  /** Forgets a group's assignments (its last client left). */
  void dropEds(String group) {
    Set<Client> members = byGroup.get(group);
    if (members == null || members.isEmpty()) {
      edsViews.remove(group);
    }
  }

  /** An EDS request of a state-of-the-world stream; runs on the stream's send executor. */
  private void onEdsRequest(Client c, DiscoveryRequest r) {
    TypeState t = c.type(EDS_TYPE);
    List<String> list = r.getResourceNamesList();
    boolean sameNames = list.equals(t.lastList);
    t.lastList = list;
    if (r.hasErrorDetail()) {
      t.nacks++;
      nack(c, EDS_TYPE, r.getVersionInfo(), r.getResponseNonce(), list, r.getErrorDetail().getMessage());
      // The client kept what it had before the rejected response: whatever it was sent since is
      // sent again with the next change (not now: the same resources would be refused again).
      c.edsSent.clear();
      c.edsResync = true;
      updateNames(c, list, sameNames);
      return;
    }
    if (!r.getResponseNonce().isEmpty() && r.getResponseNonce().equals(t.sentNonce)) {
      t.ackedVersion = r.getVersionInfo();
      t.ackedNonce = r.getResponseNonce();
    }
    if (r.getResponseNonce().isEmpty()) {
      // A first request, or a client starting over on this stream: it holds nothing we know of.
      c.edsSent.clear();
    }
    c.edsRequested = true;
    updateNames(c, list, sameNames);
    if (!sameNames || r.getResponseNonce().isEmpty()) {
      sendEds(c, null, Set.of());
    }
  }

  private static void updateNames(Client c, List<String> list, boolean same) {
    if (same && c.edsRequested && (c.edsNames != null || list.isEmpty())) {
      return;
    }
    if (list.isEmpty()) {
      c.edsNames = null;
    } else {
      Set<String> names = new HashSet<>(list);
      if (c.edsNames != null) {
        // Forget what was sent for names no longer subscribed: subscribing again means sending again.
        c.edsSent.keySet().retainAll(names);
      }
      c.edsNames = names;
    }
  }

  private boolean subscribed(Client c, String name) {
    Set<String> names = c.edsNames;
    return names == null || names.contains(name);
  }

  /** Sends a client what it subscribes to (among {@code names}, null: all) and lacks; send executor only. */
  private void sendEds(Client c, @Nullable Set<String> requestedNames, Set<String> forced) {
    if (!c.edsRequested) {
      return;
    }
    Set<String> names = c.edsResync ? null : requestedNames;
    EdsView view = edsViews.get(c.group);
    if (view == null) {
      return; // not built yet: the group's first push answers
    }
    List<ClusterLoadAssignment> out = new ArrayList<>();
    if (names == null) {
      Iterable<String> all = c.edsNames == null ? view.byName().keySet() : c.edsNames;
      for (String n : all) {
        collect(c, view, n, forced.contains(n), out);
      }
    } else {
      for (String n : names) {
        if (subscribed(c, n)) {
          collect(c, view, n, forced.contains(n), out);
        }
      }
      for (String n : forced) {
        if (!names.contains(n) && subscribed(c, n)) {
          collect(c, view, n, true, out);
        }
      }
    }
    if (out.isEmpty()) {
      return;
    }
    c.edsResync = false;
    List<Any> packed = new ArrayList<>(out.size());
    for (ClusterLoadAssignment a : out) {
      packed.add(serializer.serialize(a, Resources.ApiVersion.V3));
    }
    DiscoveryResponse response = DiscoveryResponse.newBuilder()
        .setVersionInfo(view.version())
        .setTypeUrl(EDS_TYPE)
        .setNonce("e" + (++c.edsNonce))
        .addAllResources(packed)
        .build();
    Tracking tracking = c.tracking;
    if (tracking != null) {
      tracking.onNext(response);
    }
  }

  private static void collect(Client c, EdsView view, String name, boolean force, List<ClusterLoadAssignment> out) {
    ClusterLoadAssignment a = view.byName().get(name);
    if (a == null) {
      return; // not (yet) known: sent once a push makes it
    }
    ClusterLoadAssignment before = c.edsSent.put(name, a);
    if (force || before != a) {
      out.add(a);
    }
  }

  @Override
  public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(StreamObserver<DeltaDiscoveryResponse> responses) {
    // Delta clients are served by the cache as it is, with the same node copying and registration.
    Client client = new Client(ids.incrementAndGet(), peer());
    StreamObserver<DeltaDiscoveryRequest> requests = delegate.deltaAggregatedResources(responses);
    return new StreamObserver<>() {
      @Override
      public void onNext(DeltaDiscoveryRequest request) {
        DeltaDiscoveryRequest r = request;
        if (client.node == null) {
          try {
            client.node = ProxyNode.parse(request.getNode().getId());
          } catch (IllegalArgumentException e) {
            requests.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
          }
          client.protoNode = request.getNode();
          client.group = XdsServer.groupKey(client.node);
          clients.put(client.id, client);
          server.register(client.node);
        } else if (!request.hasNode()) {
          r = request.toBuilder().setNode(client.protoNode).build();
        }
        if (r.hasErrorDetail()) {
          nack(client, r.getTypeUrl(), "", r.getResponseNonce(), r.getResourceNamesSubscribeList(), r.getErrorDetail().getMessage());
        }
        requests.onNext(r);
      }

      @Override
      public void onError(Throwable t) {
        requests.onError(t);
        unregister(client);
      }

      @Override
      public void onCompleted() {
        requests.onCompleted();
        unregister(client);
      }
    };
  }

  private static String peer() {
    // The remote address is not reachable from a service method without an interceptor; XdsServer
    // installs one that stores it in the context.
    SocketAddress a = XdsServer.PEER.get();
    return a == null ? "" : a.toString();
  }

  private void unregister(Client client) {
    Set<Client> members = byGroup.get(client.group);
    if (members != null) {
      members.remove(client);
    }
    if (clients.remove(client.id) != null && client.node != null) {
      log.info("ADS stream {} of {} closed", client.id, client.node.nodeId());
      server.unregister(client.node);
    }
  }

  /** Records an ACK or NACK; returns the request the cache should see. */
  private DiscoveryRequest account(Client client, DiscoveryRequest r) {
    TypeState t = client.type(r.getTypeUrl());
    List<String> list = r.getResourceNamesList();
    if (r.getResponseNonce().isEmpty() && !t.sentNonce.isEmpty() && !r.hasErrorDetail()) {
      // The client starts this type over on the same stream (no nonce, no version). The cache
      // ignores a request whose nonce is not that of its latest response, so this one would never
      // be answered. Let it stand for an answer to the latest response, without a version: the
      // cache then answers at once, and in full.
      synchronized (client) {
        client.sent.remove(r.getTypeUrl());
      }
      t.lastList = list;
      return r.toBuilder().setResponseNonce(t.sentNonce).setVersionInfo("").build();
    }
    boolean added;
    boolean same;
    if (list.equals(t.lastList)) {
      // An ACK repeats the names of the previous request (in Envoy's order): a thousand EDS names
      // compared in place instead of hashed into sets on every ACK.
      added = false;
      same = true;
    } else {
      Set<String> before = Set.copyOf(t.lastList);
      Set<String> names = Set.copyOf(list);
      added = names.isEmpty() ? !before.isEmpty() : !before.containsAll(names);
      same = names.equals(before);
    }
    t.lastList = list;
    if (r.hasErrorDetail() || !same) {
      // The client may lack what it was sent: the next response carries every resource again.
      synchronized (client) {
        client.sent.remove(r.getTypeUrl());
      }
    }
    if (r.getResponseNonce().isEmpty()) {
      return r;
    }
    if (added && !r.hasErrorDetail()) {
      // The client subscribes to a name it did not ask for in its previous request. It may have
      // dropped that resource since (a subscription removed and added back), while the cache
      // compares the names with those of its last response and, seeing no new name and an equal
      // version, would wait. A request without a version is answered at once.
      ackOrNothing(t, r);
      return r.toBuilder().setVersionInfo("").build();
    }
    if (r.hasErrorDetail()) {
      t.nacks++;
      nack(client, r.getTypeUrl(), r.getVersionInfo(), r.getResponseNonce(), r.getResourceNamesList(), r.getErrorDetail().getMessage());
      if (r.getResponseNonce().equals(t.sentNonce) && !t.sentVersion.equals(r.getVersionInfo())) {
        // The cache answers a request whose version differs from its snapshot's at once, so it would
        // resend the rejected version in a loop. Tell it the client has seen that version: the next
        // response then waits for a new one.
        return r.toBuilder().setVersionInfo(t.sentVersion).build();
      }
    } else {
      ackOrNothing(t, r);
    }
    return r;
  }

  private static void ackOrNothing(TypeState t, DiscoveryRequest r) {
    if (r.getResponseNonce().equals(t.sentNonce)) {
      t.ackedVersion = r.getVersionInfo();
      t.ackedNonce = r.getResponseNonce();
    }
  }

  private void nack(Client client, String typeUrl, String version, String nonce, List<String> names, String reason) {
    String type = XdsStats.shortType(typeUrl);
    List<String> shown = names.size() > 20 ? List.copyOf(names.subList(0, 20)) : List.copyOf(names);
    ProxyNode n = client.node;
    log.warn("NACK from {} for {} (nonce {}, still at version '{}', resources {}{}): {}",
        n == null ? "?" : n.nodeId(), type, nonce, version, shown, names.size() > 20 ? " and " + (names.size() - 20) + " more" : "",
        reason);
    client.lastNack = new ClientStatus.Nack(type, version, nonce, shown, reason, Instant.now().toString());
    server.stats().nack(typeUrl);
  }

  /**
   * The resources of {@code now} not sent in {@code before}, by identity. Responses to unchanged
   * names list the resources in the same order, so the lists are compared position by position
   * (no hashing of a thousand resources per response); otherwise by an identity set. A resource
   * that only moved is sent again, which is harmless.
   */
  static List<Any> changed(List<Any> before, List<Any> now) {
    List<Any> out = new ArrayList<>();
    if (before.size() == now.size()) {
      for (int i = 0; i < now.size(); i++) {
        if (now.get(i) != before.get(i)) {
          out.add(now.get(i));
        }
      }
      return out;
    }
    Set<Any> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    seen.addAll(before);
    for (Any a : now) {
      if (!seen.contains(a)) {
        out.add(a);
      }
    }
    return out;
  }

  /** Records what is sent; stops forwarding once the call is cancelled. */
  private final class Tracking implements StreamObserver<DiscoveryResponse> {
    private final StreamObserver<DiscoveryResponse> out;
    private final Client client;
    volatile boolean cancelled;
    private boolean closed;

    Tracking(StreamObserver<DiscoveryResponse> out, Client client) {
      this.out = out;
      this.client = client;
    }

    /** The cache calls this holding the lock on this object; the EDS path calls it without. */
    @Override
    public synchronized void onNext(DiscoveryResponse value) {
      if (cancelled || closed) {
        return;
      }
      TypeState t = client.type(value.getTypeUrl());
      t.sentVersion = value.getVersionInfo();
      t.sentNonce = value.getNonce();
      server.stats().response(value.getTypeUrl());
      try {
        out.onNext(onlyChanged(value));
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.CANCELLED) {
          throw e;
        }
      }
    }

    /**
     * For routes, state of the world lets a response carry only what changed (an absent name is
     * not a deletion for this type). Unchanged resources are the same serialized instances as
     * before, so a rule edit sends the changed route configurations only. (EDS responses are made
     * by this class and carry only changes already.)
     */
    private DiscoveryResponse onlyChanged(DiscoveryResponse value) {
      String type = value.getTypeUrl();
      if (!type.equals(RDS_TYPE)) {
        return value;
      }
      List<Any> now = value.getResourcesList();
      synchronized (client) {
        List<Any> before = client.sent.put(type, now);
        if (before == null) {
          return value;
        }
        List<Any> changed = changed(before, now);
        return changed.size() == value.getResourcesCount() ? value
            : value.toBuilder().clearResources().addAllResources(changed).build();
      }
    }

    @Override
    public synchronized void onError(Throwable t) {
      if (!cancelled && !closed) {
        closed = true;
        out.onError(t);
      }
    }

    @Override
    public synchronized void onCompleted() {
      if (!cancelled && !closed) {
        closed = true;
        out.onCompleted();
      }
    }
  }
}

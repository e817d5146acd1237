package io.istio4j.pilot.registry;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A fake of Consul's HTTP API, for tests (no Consul binary can be installed here). It serves what
 * the Consul registry reads, in the shapes Consul documents:
 *
 * <ul>
 *   <li>{@code GET /v1/catalog/services}: an object of service name to tags (the server's own
 *       {@code consul} service included, as a real server lists it);
 *   <li>{@code GET /v1/catalog/service/NAME}: flat entries ({@code Node}, {@code Address},
 *       {@code NodeMeta}, {@code ServiceID}, {@code ServiceName}, {@code ServiceAddress},
 *       {@code ServicePort}, {@code ServiceTags}, ...);
 *   <li>{@code GET /v1/health/service/NAME}: entries of {@code Node}, {@code Service} and
 *       {@code Checks} (the node's {@code serfHealth} and the service's own check).
 * </ul>
 *
 * <p>Blocking queries as Consul documents them: every answer carries {@code X-Consul-Index}; a
 * request with {@code ?index=N} is held until the index of what it reads exceeds N, or until
 * {@code wait} (default 5m, at most 10m, plus up to wait/16 of jitter) passes, and then answers with
 * the current data and index (equal to N after a timeout; LOWER than N when the index went back,
 * as after a snapshot restore, {@link #resetIndex}). The catalog's index moves on every change; a
 * service's index only when that service changes. Indexes only increase, except through
 * {@link #resetIndex}. Tests can end every held request at once ({@link #expireWaits}), make a
 * path answer something else ({@link #override}), and count requests.
 */
final class FakeConsul implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_WAIT_MS = 10 * 60_000;

  /** One registered service instance on a node, with its health status. */
  record Instance(String node, String nodeAddress, Map<String, String> nodeMeta, String id, String address, int port,
      List<String> tags, String status) {}

  /**
   * A canned answer replacing a path's real one, after {@code delayMillis}; {@code index} below 0
   * sends no X-Consul-Index.
   */
  record CannedReply(int status, String body, long index, long delayMillis) {
    CannedReply(int status, String body, long index) {
      this(status, body, index, 0);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fake-consul");
    t.setDaemon(true);
    return t;
  });
  private final Object lock = new Object();
  // Guarded by lock.
  private long index = 10;
  private long catalogIndex = 10;
  private final Map<String, Long> serviceIndex = new HashMap<>();
  private final Map<String, Map<String, Instance>> services = new TreeMap<>();
  private long expireGeneration;
  private int parked;
  private final Map<String, CannedReply> overrides = new HashMap<>();
  private final AtomicLong requests = new AtomicLong();
  private final Map<String, AtomicLong> requestsByPath = new HashMap<>();

  FakeConsul() throws IOException {
    this(0);
  }

  FakeConsul(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    register("consul", new Instance("server-1", "127.0.0.1", Map.of(), "consul", "", 8300, List.of(), "passing"));
    server.start();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Registers (or replaces) an instance; the indexes move. */
  void register(String service, Instance instance) {
    synchronized (lock) {
      services.computeIfAbsent(service, s -> new LinkedHashMap<>()).put(instance.id(), instance);
      changed(service);
    }
  }

  /** Removes an instance, and the service with its last one. */
  void deregister(String service, String id) {
    synchronized (lock) {
      Map<String, Instance> m = services.get(service);
      if (m != null && m.remove(id) != null) {
        if (m.isEmpty()) {
          services.remove(service);
        }
        changed(service);
      }
    }
  }

  /** Sets the status of an instance's check ({@code passing}, {@code warning}, {@code critical}). */
  void check(String service, String id, String status) {
    synchronized (lock) {
      Instance i = services.get(service).get(id);
      services.get(service).put(id, new Instance(i.node(), i.nodeAddress(), i.nodeMeta(), i.id(), i.address(), i.port(),
          i.tags(), status));
      changed(service);
    }
  }

  private void changed(String service) {
    index++;
    catalogIndex = index;
    serviceIndex.put(service, index);
    lock.notifyAll();
  }

  /** Sets every index to {@code value} (lower than now: as a restored snapshot) and wakes held requests. */
  void resetIndex(long value) {
    synchronized (lock) {
      index = value;
      catalogIndex = value;
      serviceIndex.replaceAll((k, v) -> value);
      expireGeneration++;
      lock.notifyAll();
    }
  }

  /**
   * A snapshot restore: {@code changes} applied and every index set to {@code value} in one step,
   * held requests woken (Consul abandons its blocking queries on a restore).
   */
  void restore(long value, Runnable changes) {
    synchronized (lock) {
      changes.run();
      resetIndex(value);
    }
  }

  /** Answers every held request now, as if its wait had passed. */
  void expireWaits() {
    synchronized (lock) {
      expireGeneration++;
      lock.notifyAll();
    }
  }

  /** Makes {@code path} answer this instead (null: the real answer again). */
  void override(String path, @Nullable CannedReply o) {
    synchronized (lock) {
      if (o == null) {
        overrides.remove(path);
      } else {
        overrides.put(path, o);
      }
      expireGeneration++;
      lock.notifyAll();
    }
  }

  /** Requests held right now (blocking queries waiting for a change). */
  int parked() {
    synchronized (lock) {
      return parked;
    }
  }

  long requests() {
    return requests.get();
  }

  long requests(String path) {
    synchronized (lock) {
      AtomicLong n = requestsByPath.get(path);
      return n == null ? 0 : n.get();
    }
  }

  private long indexOf(String path) {
    if (path.startsWith("/v1/catalog/service/") || path.startsWith("/v1/health/service/")) {
      String name = path.substring(path.lastIndexOf('/') + 1);
      return serviceIndex.getOrDefault(name, catalogIndex);
    }
    return catalogIndex;
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      requests.incrementAndGet();
      String path = exchange.getRequestURI().getPath();
      Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
      if (!exchange.getRequestMethod().equals("GET")) {
        send(exchange, 405, "method not allowed", -1);
        return;
      }
      long answerIndex;
      String json;
      int status = 200;
      boolean withIndex = true;
      long delay = 0;
      synchronized (lock) {
        requestsByPath.computeIfAbsent(path, p -> new AtomicLong()).incrementAndGet();
        long wanted = query.containsKey("index") ? Long.parseLong(query.get("index")) : 0;
        if (wanted > 0 && overrides.get(path) == null) {
          long waitMs = Math.min(parseWait(query.getOrDefault("wait", "5m")), MAX_WAIT_MS);
          long deadline = System.currentTimeMillis() + waitMs + ThreadLocalRandom.current().nextLong(waitMs / 16 + 1);
          long generation = expireGeneration;
          parked++;
          try {
            while (indexOf(path) <= wanted && generation == expireGeneration && overrides.get(path) == null) {
              long left = deadline - System.currentTimeMillis();
              if (left <= 0) {
                break;
              }
              lock.wait(left);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          } finally {
            parked--;
          }
        }
        CannedReply o = overrides.get(path);
        answerIndex = indexOf(path);
        if (o != null) {
          status = o.status();
          json = o.body();
          withIndex = o.index() >= 0;
          answerIndex = o.index();
          delay = o.delayMillis();
        } else if (path.equals("/v1/catalog/services")) {
          json = catalogServices();
        } else if (path.startsWith("/v1/catalog/service/")) {
          json = catalogService(URLDecoder.decode(path.substring("/v1/catalog/service/".length()), UTF_8));
        } else if (path.startsWith("/v1/health/service/")) {
          json = healthService(URLDecoder.decode(path.substring("/v1/health/service/".length()), UTF_8));
        } else {
          status = 404;
          json = "Invalid URL path: not a recognized HTTP API endpoint";
          withIndex = false;
        }
      }
      if (delay > 0) {
        try {
          Thread.sleep(delay); // a slow server: outside the lock, so other requests go on
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      send(exchange, status, json, withIndex ? answerIndex : -1);
    } catch (IOException e) {
      // the client went away (a cancelled watch)
    }
  }

  private static void send(HttpExchange exchange, int status, String body, long index) throws IOException {
    byte[] bytes = body.getBytes(UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    if (index >= 0) {
      exchange.getResponseHeaders().set("X-Consul-Index", Long.toString(index));
      exchange.getResponseHeaders().set("X-Consul-KnownLeader", "true");
      exchange.getResponseHeaders().set("X-Consul-LastContact", "0");
    }
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private String catalogServices() throws IOException {
    Map<String, List<String>> out = new TreeMap<>();
    services.forEach((name, instances) -> {
      List<String> tags = new ArrayList<>();
      for (Instance i : instances.values()) {
        for (String t : i.tags()) {
          if (!tags.contains(t)) {
            tags.add(t);
          }
        }
      }
      out.put(name, tags);
    });
    return JSON.writeValueAsString(out);
  }

  private String catalogService(String name) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Instance i : services.getOrDefault(name, Map.of()).values()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ID", "00000000-0000-0000-0000-" + String.format("%012d", Math.abs(i.node().hashCode())));
      m.put("Node", i.node());
      m.put("Address", i.nodeAddress());
      m.put("Datacenter", "dc1");
      m.put("TaggedAddresses", Map.of("lan", i.nodeAddress(), "wan", i.nodeAddress()));
      m.put("NodeMeta", i.nodeMeta());
      m.put("ServiceKind", "");
      m.put("ServiceID", i.id());
      m.put("ServiceName", name);
      m.put("ServiceTags", i.tags());
      m.put("ServiceAddress", i.address());
      m.put("ServiceMeta", Map.of());
      m.put("ServicePort", i.port());
      m.put("ServiceEnableTagOverride", false);
      m.put("CreateIndex", 10);
      m.put("ModifyIndex", serviceIndex.getOrDefault(name, 10L));
      out.add(m);
    }
    return JSON.writeValueAsString(out);
  }

  private String healthService(String name) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Instance i : services.getOrDefault(name, Map.of()).values()) {
      Map<String, Object> node = new LinkedHashMap<>();
      node.put("ID", "00000000-0000-0000-0000-" + String.format("%012d", Math.abs(i.node().hashCode())));
      node.put("Node", i.node());
      node.put("Address", i.nodeAddress());
      node.put("Datacenter", "dc1");
      node.put("TaggedAddresses", Map.of("lan", i.nodeAddress(), "wan", i.nodeAddress()));
      node.put("Meta", i.nodeMeta());
      Map<String, Object> svc = new LinkedHashMap<>();
      svc.put("ID", i.id());
      svc.put("Service", name);
      svc.put("Tags", i.tags());
      svc.put("Address", i.address());
      svc.put("Meta", Map.of());
      svc.put("Port", i.port());
      List<Map<String, Object>> checks = List.of(
          Map.of("Node", i.node(), "CheckID", "serfHealth", "Name", "Serf Health Status", "Status", "passing",
              "ServiceID", "", "ServiceName", ""),
          Map.of("Node", i.node(), "CheckID", "service:" + i.id(), "Name", "Service '" + name + "' check",
              "Status", i.status(), "ServiceID", i.id(), "ServiceName", name));
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("Node", node);
      entry.put("Service", svc);
      entry.put("Checks", checks);
      out.add(entry);
    }
    return JSON.writeValueAsString(out);
  }

  private static long parseWait(String v) {
    if (v.endsWith("ms")) {
      return Long.parseLong(v.substring(0, v.length() - 2));
    }
    if (v.endsWith("s")) {
      return Long.parseLong(v.substring(0, v.length() - 1)) * 1000;
    }
    if (v.endsWith("m")) {
      return Long.parseLong(v.substring(0, v.length() - 1)) * 60_000;
    }
    return Long.parseLong(v) * 1000;
  }

  private static Map<String, String> query(@Nullable String raw) {
    Map<String, String> out = new HashMap<>();
    if (raw == null) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      out.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), UTF_8),
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), UTF_8));
    }
    return out;
  }

  @Override
  public void close() {
    synchronized (lock) {
      expireGeneration++;
      lock.notifyAll();
    }
    server.stop(0);
    executor.shutdownNow();
  }
}

package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.ServiceRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * What the Eureka and Consul registries share: an immutable view (hostname to service and
 * instances) replaced as a whole on the registry's one thread, events only for the hostnames whose
 * service or instances really changed, the health of the link to the server ({@link SyncHealth}),
 * and the sync rule.
 *
 * <p>Sync rule: the registry reports synced after its first complete successful read of the
 * server, or, when the server cannot be read, once {@code syncTimeout} has passed since
 * {@link #start} (then with no services from this server, {@link #status} saying
 * {@code UNREACHABLE} and a warning logged), so that one unreachable registry does not keep Pilot
 * unready forever. A {@code syncTimeout} of zero waits for the server however long it takes. When
 * the server goes away after a successful read, the last view is kept and served (stale) until
 * the server answers again.
 */
abstract class RemoteRegistry implements ServiceRegistry, RegistryStatus, SyncHealth {
  /** A hostname's service and its instances (sorted, so that equal content compares equal). */
  record Host(Service service, List<ServiceInstance> instances) {
    Host {
      requireNonNull(service, "service");
      instances = List.copyOf(instances);
    }
  }

  private record View(Map<String, Host> hosts, Map<String, List<ServiceInstance>> byAddress, int instances) {
    static final View EMPTY = new View(Map.of(), Map.of(), 0);
  }

  private final String name;
  private final Logger log;
  private final Duration syncTimeout;
  protected final ScheduledExecutorService loop;
  private final List<Consumer<RegistryEvent>> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong events = new AtomicLong();
  private volatile View view = View.EMPTY;
  private volatile boolean synced;
  private volatile boolean gaveUpWaiting;
  private volatile boolean reachable;
  private volatile @Nullable Instant lastSuccess;
  private volatile @Nullable String lastError;
  private volatile @Nullable Instant startedAt;
  private boolean started;

  RemoteRegistry(String name, Duration syncTimeout, Logger log) {
    this.name = requireNonNull(name, "name");
    this.syncTimeout = requireNonNull(syncTimeout, "syncTimeout");
    this.log = requireNonNull(log, "log");
    String threadName = "istio4j-registry-" + name.substring(0, name.indexOf(':'));
    this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final void addListener(Consumer<RegistryEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  @Override
  public final synchronized void start() {
    if (started) {
      return;
    }
    started = true;
    startedAt = Instant.now();
    if (!syncTimeout.isZero()) {
      loop.schedule(this::syncTimedOut, syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }
    loop.execute(this::begin);
  }

  /** Starts talking to the server; runs on {@link #loop}. */
  protected abstract void begin();

  private void syncTimedOut() {
    if (!synced) {
      gaveUpWaiting = true;
      synced = true;
      log.warn("{}: not synced after {} ms ({}); reporting synced with what is known ({} services) and retrying",
          name, syncTimeout.toMillis(), lastError == null ? "no answer yet" : lastError, view.hosts.size());
    }
  }

  /** Marks the first complete read done. */
  protected final void markSynced() {
    if (!synced || gaveUpWaiting) {
      log.info("{}: synced, {} services, {} instances", name, view.hosts.size(), view.instances);
    }
    gaveUpWaiting = false;
    synced = true;
  }

  @Override
  public final boolean hasSynced() {
    return synced;
  }

  /** Counts a request about to be sent. */
  protected final void requestSent() {
    requests.incrementAndGet();
  }

  /** Records a successful exchange: the view is current. */
  protected final void succeeded() {
    if (!reachable && lastError != null) {
      log.info("{}: the server answers again", name);
    }
    reachable = true;
    lastSuccess = Instant.now();
  }

  /** Records a failed exchange; the view is kept. Logs at WARN only on the change from reachable. */
  protected final void failed(String error) {
    errors.incrementAndGet();
    boolean wasReachable = reachable;
    reachable = false;
    lastError = Instant.now() + " " + error;
    if (wasReachable || errors.get() == 1) {
      log.warn("{}: {}; keeping the last view ({} services) and retrying", name, error, view.hosts.size());
    } else {
      log.debug("{}: {}", name, error);
    }
  }

  /** The current view, hostname to service and instances. */
  protected final Map<String, Host> hosts() {
    return view.hosts;
  }

  /**
   * Replaces the view and fires an event for each hostname whose service or instances changed
   * (service first, then instances); runs on {@link #loop}.
   */
  protected final void replace(Map<String, Host> next) {
    Map<String, Host> old = view.hosts;
    Map<String, Host> sorted = Collections.unmodifiableMap(new TreeMap<>(next));
    List<RegistryEvent> out = new ArrayList<>();
    Set<String> all = new TreeSet<>(old.keySet());
    all.addAll(sorted.keySet());
    for (String h : all) {
      Host before = old.get(h);
      Host after = sorted.get(h);
      if (before == null) {
        out.add(new RegistryEvent(name, RegistryEvent.Kind.SERVICE, EventType.ADD, h));
        if (!after.instances().isEmpty()) {
          out.add(new RegistryEvent(name, RegistryEvent.Kind.INSTANCES, EventType.ADD, h));
        }
      } else if (after == null) {
        out.add(new RegistryEvent(name, RegistryEvent.Kind.SERVICE, EventType.DELETE, h));
      } else {
        if (!before.service().equals(after.service())) {
          out.add(new RegistryEvent(name, RegistryEvent.Kind.SERVICE, EventType.UPDATE, h));
        }
        if (!before.instances().equals(after.instances())) {
          out.add(new RegistryEvent(name, RegistryEvent.Kind.INSTANCES, EventType.UPDATE, h));
        }
      }
    }
    if (out.isEmpty()) {
      return;
    }
    Map<String, List<ServiceInstance>> byAddress = new HashMap<>();
    int count = 0;
    for (Host host : sorted.values()) {
      for (ServiceInstance i : host.instances()) {
        byAddress.computeIfAbsent(i.endpoint().address(), a -> new ArrayList<>()).add(i);
        count++;
      }
    }
    byAddress.replaceAll((a, l) -> List.copyOf(l));
    view = new View(sorted, Map.copyOf(byAddress), count);
    for (RegistryEvent e : out) {
      events.incrementAndGet();
      for (Consumer<RegistryEvent> l : listeners) {
        try {
          l.accept(e);
        } catch (RuntimeException ex) {
          log.error("{}: a listener failed on {}", name, e, ex);
        }
      }
    }
  }

  @Override
  public final List<Service> services() {
    List<Service> out = new ArrayList<>(view.hosts.size());
    for (Host h : view.hosts.values()) {
      out.add(h.service());
    }
    return out;
  }

  @Override
  public final Optional<Service> service(String hostname) {
    Host h = view.hosts.get(hostname);
    return h == null ? Optional.empty() : Optional.of(h.service());
  }

  @Override
  public final List<ServiceInstance> instances(String hostname, Set<String> portNames, LabelsCollection labels) {
    Host h = view.hosts.get(hostname);
    if (h == null) {
      return List.of();
    }
    List<ServiceInstance> out = new ArrayList<>();
    for (ServiceInstance i : h.instances()) {
      if ((portNames.isEmpty() || portNames.contains(i.endpoint().servicePort().name()))
          && labels.hasSubsetOf(i.labels())) {
        out.add(i);
      }
    }
    return out;
  }

  @Override
  public final List<ServiceInstance> hostInstances(Collection<String> addresses) {
    Map<String, List<ServiceInstance>> byAddress = view.byAddress;
    List<ServiceInstance> out = new ArrayList<>();
    for (String a : addresses) {
      out.addAll(byAddress.getOrDefault(a, List.of()));
    }
    return out;
  }

  @Override
  public final boolean reachable() {
    return reachable;
  }

  @Override
  public final @Nullable Instant lastSuccessfulSync() {
    return lastSuccess;
  }

  @Override
  public final double stalenessSeconds() {
    if (reachable) {
      return 0;
    }
    Instant since = lastSuccess != null ? lastSuccess : startedAt;
    return since == null ? 0 : Duration.between(since, Instant.now()).toMillis() / 1000.0;
  }

  @Override
  public final long requests() {
    return requests.get();
  }

  @Override
  public final long syncErrors() {
    return errors.get();
  }

  /** The state shared by both registries; subclasses add their settings with {@link #details}. */
  @Override
  public final Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    String state;
    if (reachable) {
      state = "OK";
    } else if (lastSuccess != null) {
      state = "STALE";
    } else if (gaveUpWaiting) {
      state = "UNREACHABLE";
    } else {
      state = "SYNCING";
    }
    out.put("state", state);
    out.put("synced", synced);
    out.put("services", view.hosts.size());
    out.put("instances", view.instances);
    out.put("events", events.get());
    out.put("requests", requests.get());
    out.put("errors", errors.get());
    out.put("stalenessSeconds", stalenessSeconds());
    Instant ls = lastSuccess;
    if (ls != null) {
      out.put("lastSuccess", ls.toString());
    }
    String le = lastError;
    if (le != null) {
      out.put("lastError", le);
    }
    details(out);
    return out;
  }

  /** Adds this registry's settings and state to {@link #status}. */
  protected abstract void details(Map<String, Object> out);

  /** Stops the thread; subclasses release their client after calling this. */
  @Override
  public void close() {
    loop.shutdownNow();
    try {
      loop.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

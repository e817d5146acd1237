package io.istio4j.adapters.memquota;

import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaConfigValidation;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.memquota.config.Params;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaInstance;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Allocates from in-memory cells, one per (quota instance, dimension values). A cell is a plain
 * counter when its limit's valid duration is 0, otherwise a rolling window of ceil(duration)
 * seconds counted in tenths of a second. Each cell is guarded by its own lock, so allocations for
 * different cells never contend and one cell never grants more than its limit in any window.
 *
 * <p>Dimension values are compared and keyed by their Go text ({@link GoValues#format}), as
 * upstream's {@code String()}: an IP address is {@code 10.0.0.1} in a cell key and in an override.
 *
 * <p>Deduplication is atomic: calls with one id take one of {@link #DEDUP_STRIPES} locks, so the
 * second of two concurrent calls waits for the first and gets its answer. Calls without an id take
 * no lock.
 */
final class MemQuotaHandler implements QuotaHandler {

  static final int TICKS_PER_SECOND = 10;
  static final int DEDUP_STRIPES = 64;
  /** What {@link Cell#allocate} returns for a cell the sweep retired: look it up again. */
  private static final long RETIRED = Long.MIN_VALUE;
  private static final long MILLIS_PER_TICK = 1000L / TICKS_PER_SECOND;
  private static final ThreadLocal<CellKey> LOOKUP = ThreadLocal.withInitial(CellKey::new);

  private final Map<String, Limits> limits = new HashMap<>();
  private final ConcurrentHashMap<CellKey, Cell> cells = new ConcurrentHashMap<>();
  private final Clock clock;
  private final long dedupMillis;
  private final Object[] dedupLocks = new Object[DEDUP_STRIPES];
  private volatile Dedup dedup;

  /** A quota's default limit and its overrides. */
  private record Limits(Limit defaults, Override[] overrides) {}

  /** How much, and for how long. */
  record Limit(long maxAmount, Duration validDuration) {
    int ticks() {
      long seconds = validDuration.getSeconds() + (validDuration.getNano() > 0 ? 1 : 0);
      return (int) Math.min(Integer.MAX_VALUE / 2, seconds * TICKS_PER_SECOND);
    }
  }

  /** An override; {@code values} are Go texts, compared with the Go text of the request's values. */
  private record Override(String[] keys, String[] values, Limit limit) {
    boolean matches(Map<String, Object> dims) {
      for (int i = 0; i < keys.length; i++) {
        Object v = dims.get(keys[i]);
        if (v == null || !values[i].equals(GoValues.format(v))) {
          return false;
        }
      }
      return true;
    }
  }

  MemQuotaHandler(Params params, Clock clock) {
    this(params, clock, Map.of());
  }

  /** {@code dimensionTypes}: quota instance name to its dimensions' types, to read override values. */
  MemQuotaHandler(Params params, Clock clock, Map<String, Map<String, ValueType>> dimensionTypes) {
    this.clock = clock;
    this.dedupMillis = toDuration(params.getMinDeduplicationDuration()).toMillis();
    this.dedup = new Dedup(clock.millis());
    Arrays.setAll(dedupLocks, i -> new Object());
    for (Params.Quota q : params.getQuotasList()) {
      Map<String, ValueType> types = dimensionTypes.getOrDefault(q.getName(), Map.of());
      Override[] overrides = new Override[q.getOverridesCount()];
      for (int i = 0; i < overrides.length; i++) {
        Params.Override o = q.getOverrides(i);
        String[] keys = o.getDimensionsMap().keySet().stream().sorted().toArray(String[]::new);
        String[] values = Arrays.stream(keys).map(k -> overrideText(types.get(k), o.getDimensionsMap().get(k)))
            .toArray(String[]::new);
        overrides[i] = new Override(keys, values, new Limit(o.getMaxAmount(), toDuration(o.getValidDuration())));
      }
      limits.put(q.getName(), new Limits(new Limit(q.getMaxAmount(), toDuration(q.getValidDuration())), overrides));
    }
  }

  @java.lang.Override
  public QuotaResult handleQuota(QuotaInstance instance, QuotaArgs args) {
    Limits l = limits.get(instance.name());
    if (l == null) { // the builder checked every bound instance; a new one needs a new config
      return new QuotaResult(Status.of(Status.Code.INTERNAL,
          "memquota has no quota named " + instance.name()), Duration.ZERO, 0);
    }
    String id = args.deduplicationId();
    if (id.isEmpty()) {
      return allocate(instance, l, args);
    }
    // One lock per id (striped): a concurrent retry waits for the first call and gets its answer.
    synchronized (dedupLocks[(id.hashCode() ^ id.hashCode() >>> 16) & (DEDUP_STRIPES - 1)]) {
      QuotaResult seen = dedup(clock.millis()).get(id);
      if (seen != null) {
        return seen;
      }
      QuotaResult result = allocate(instance, l, args);
      dedup.put(id, result); // the current generation, even if it rotated meanwhile
      return result;
    }
  }

  private QuotaResult allocate(QuotaInstance instance, Limits l, QuotaArgs args) {
    Limit limit = select(l, instance.dimensions());
    CellKey lookup = LOOKUP.get().of(instance.name(), instance.dimensions());
    while (true) {
      Cell cell = cells.get(lookup);
      if (cell == null) {
        cell = cells.computeIfAbsent(lookup.copy(),
            k -> limit.validDuration().isZero() ? new Counter() : new Window(limit.ticks()));
      }
      long granted = cell.allocate(limit.maxAmount(), args.amount(), args.bestEffort(), clock);
      if (granted != RETIRED) { // else the sweep dropped the cell after the lookup: take the new one
        return QuotaResult.granted(granted, limit.validDuration());
      }
    }
  }

  private static Limit select(Limits l, Map<String, Object> dims) {
    for (Override o : l.overrides()) {
      if (o.matches(dims)) {
        return o.limit();
      }
    }
    return l.defaults();
  }

  /** Rotates the two deduplication maps once a period has passed; ids live one to two periods. */
  private Dedup dedup(long now) {
    Dedup d = dedup;
    if (now - d.started >= dedupMillis) {
      synchronized (this) {
        d = dedup;
        if (now - d.started >= 2 * dedupMillis) {
          d = new Dedup(now); // idle for two periods: everything remembered is older than a period
          dedup = d;
        } else if (now - d.started >= dedupMillis) {
          d = new Dedup(now, d.current);
          dedup = d;
        }
      }
    }
    return d;
  }

  /**
   * Drops cells that hold nothing any more, so memory follows the live dimension values. A cell is
   * idle when its window holds no grant at the current tick; every later allocation reads the clock
   * under the new cell's lock, at that tick or later, so the grants of a dropped cell can never
   * belong to a window that the new cell counts.
   */
  void sweep() {
    for (Iterator<Cell> it = cells.values().iterator(); it.hasNext();) {
      Cell c = it.next();
      synchronized (c) {
        if (c.idle(clock.millis() / MILLIS_PER_TICK)) {
          it.remove();
          c.retired = true;
        }
      }
    }
  }

  int cellCount() {
    return cells.size();
  }

  @java.lang.Override
  public void close() {
    cells.clear();
  }

  /** An override value as the Go text it names (see QuotaConfigValidation#overrideText). */
  private static String overrideText(ValueType type, String value) {
    String text = type == null ? value : QuotaConfigValidation.overrideText(type, value);
    return text == null ? value : text;
  }

  private static Duration toDuration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  /**
   * The identity of a cell: the instance and its dimension names and values, compared by value. A
   * per-thread instance is refilled for each lookup (no allocation); a copy is stored on a miss.
   */
  private static final class CellKey implements BiConsumer<String, Object> {
    private String instance;
    private Object[] keysAndValues = new Object[8];
    private int length;
    private int hash;

    CellKey of(String name, Map<String, Object> dims) {
      instance = name;
      length = 0;
      hash = name.hashCode();
      if (keysAndValues.length < dims.size() * 2) {
        keysAndValues = new Object[dims.size() * 2];
      }
      dims.forEach(this);
      return this;
    }

    @java.lang.Override
    public void accept(String key, Object value) {
      // An address by its Go text, so 10.0.0.1 in its 4- and 16-byte forms is one cell, as upstream.
      Object v = value instanceof byte[] b ? GoValues.ip(b) : value;
      keysAndValues[length++] = key;
      keysAndValues[length++] = v;
      hash = 31 * (31 * hash + key.hashCode()) + v.hashCode();
    }

    CellKey copy() {
      CellKey k = new CellKey();
      k.instance = instance;
      k.keysAndValues = Arrays.copyOf(keysAndValues, length);
      k.length = length;
      k.hash = hash;
      return k;
    }

    @java.lang.Override
    public boolean equals(Object o) {
      if (!(o instanceof CellKey k) || k.hash != hash || k.length != length || !k.instance.equals(instance)) {
        return false;
      }
      for (int i = 0; i < length; i++) {
        if (!keysAndValues[i].equals(k.keysAndValues[i])) {
          return false;
        }
      }
      return true;
    }

    @java.lang.Override
    public int hashCode() {
      return hash;
    }
  }

  /** Quota state for one cell; every method runs under the cell's lock. */
  private abstract static class Cell {
    boolean retired;

    /**
     * Allocates at the clock's tick read under the lock (so ticks never go back within a cell), or
     * returns {@link #RETIRED} when the sweep dropped this cell after the caller found it.
     */
    final synchronized long allocate(long max, long amount, boolean bestEffort, Clock clock) {
      if (retired) {
        return RETIRED;
      }
      return doAllocate(max, amount, bestEffort, clock.millis() / MILLIS_PER_TICK);
    }

    abstract long doAllocate(long max, long amount, boolean bestEffort, long tick);

    abstract boolean idle(long tick);
  }

  /** A plain counter: allocations stay until released with a negative amount. */
  private static final class Counter extends Cell {
    private long inUse;

    @java.lang.Override
    long doAllocate(long max, long amount, boolean bestEffort, long tick) {
      if (amount <= 0) {
        inUse = Math.max(0, inUse + amount);
        return 0;
      }
      long available = max - inUse;
      long granted = amount <= available ? amount : bestEffort ? Math.max(0, available) : 0;
      inUse += granted;
      return granted;
    }

    @java.lang.Override
    boolean idle(long tick) {
      return inUse == 0;
    }
  }

  /** A rolling window of {@code slots.length} ticks: what was granted in each tick, and their sum. */
  private static final class Window extends Cell {
    private final long[] slots;
    private long lastTick = Long.MIN_VALUE;
    private long total;

    Window(int ticks) {
      slots = new long[Math.max(1, ticks)];
    }

    @java.lang.Override
    long doAllocate(long max, long amount, boolean bestEffort, long tick) {
      advance(tick);
      if (amount <= 0) {
        return 0;
      }
      long available = max - total;
      long granted = amount <= available ? amount : bestEffort ? Math.max(0, available) : 0;
      if (granted > 0) {
        slots[(int) Math.floorMod(tick, (long) slots.length)] += granted;
        total += granted;
      }
      return granted;
    }

    /** Forgets the ticks that left the window since the last call. */
    private void advance(long tick) {
      if (lastTick == Long.MIN_VALUE || tick - lastTick >= slots.length) {
        Arrays.fill(slots, 0);
        total = 0;
      } else {
        for (long t = lastTick + 1; t <= tick; t++) {
          int i = (int) Math.floorMod(t, (long) slots.length);
          total -= slots[i];
          slots[i] = 0;
        }
      }
      if (tick > lastTick) {
        lastTick = tick;
      }
    }

    @java.lang.Override
    boolean idle(long tick) {
      return lastTick == Long.MIN_VALUE || tick - lastTick >= slots.length;
    }
  }

  /** Results by deduplication id, in the current and the previous period. */
  private static final class Dedup {
    final long started;
    final ConcurrentHashMap<String, QuotaResult> current = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, QuotaResult> previous;

    Dedup(long started) {
      this(started, new ConcurrentHashMap<>());
    }

    Dedup(long started, ConcurrentHashMap<String, QuotaResult> previous) {
      this.started = started;
      this.previous = previous;
    }

    QuotaResult get(String id) {
      QuotaResult r = current.get(id);
      return r != null ? r : previous.get(id);
    }

    void put(String id, QuotaResult r) {
      current.put(id, r);
    }
  }
}

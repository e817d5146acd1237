package io.istio4j.pilot.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.serializer.ProtoResourcesSerializer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Packs resources into {@link Any} once per resource: the Any of an equal resource is shared by
 * every response that carries it (every client of a group, and every push that did not change
 * it). Replaces java-control-plane's {@code CachedProtoResourcesSerializer}, whose weak-keyed Guava
 * cache costs several times more per lookup, and a response carries a thousand resources. Keeps
 * two generations: a resource still served is moved to the current one on its next use, and a
 * generation ends once it holds twice as many entries as the previous one had resources still in
 * use (at least {@value #MIN_GENERATION}), so memory stays bounded by what is served, even when
 * endpoint pushes keep creating new assignments between full pushes. Used from the send threads.
 */
final class SharedSerializer implements ProtoResourcesSerializer {
  private static final int MIN_GENERATION = 20_000;
  private volatile Map<Message, Any> previous = new ConcurrentHashMap<>();
  private volatile Map<Message, Any> current = new ConcurrentHashMap<>();
  /** Resources of the previous generation used again in this one. */
  private final AtomicInteger promoted = new AtomicInteger();
  private volatile int limit = MIN_GENERATION;

  @Override
  public Collection<Any> serialize(Collection<? extends Message> resources, Resources.ApiVersion apiVersion) {
    List<Any> out = new ArrayList<>(resources.size());
    for (Message m : resources) {
      out.add(serialize(m, apiVersion));
    }
    return out;
  }

  @Override
  public Any serialize(Message resource, Resources.ApiVersion apiVersion) {
    Map<Message, Any> cur = current;
    Any a = cur.get(resource);
    if (a == null) {
      a = previous.get(resource);
      if (a == null) {
        a = Any.pack(resource);
      } else {
        promoted.incrementAndGet();
      }
      Any raced = cur.putIfAbsent(resource, a);
      if (raced != null) {
        a = raced;
      }
      if (cur.size() > limit) {
        rotate(cur);
      }
    }
    return a;
  }

  private synchronized void rotate(Map<Message, Any> full) {
    if (current == full) {
      previous = full;
      current = new ConcurrentHashMap<>();
      limit = Math.max(MIN_GENERATION, 2 * promoted.getAndSet(0));
    }
  }
}

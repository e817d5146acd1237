package io.istio4j.mixer.expr;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Compiled regular expressions for {@code pattern.matches(s)} whose pattern is not a constant (an
 * attribute, a map value): each distinct pattern is compiled once, not per evaluation. An invalid
 * pattern is remembered with its error, so it is not compiled again either.
 *
 * <p>Bounded, because the patterns may come from clients: at most {@link #MAX_ENTRIES} patterns of
 * at most {@link #MAX_PATTERN_LENGTH} characters each (so at most a few MB). When full, an arbitrary
 * entry makes room; a longer pattern is compiled for its evaluation and not kept. Lookups are
 * lock-free reads of a {@link ConcurrentHashMap}: no lock on the request path.
 */
final class PatternCache {

  static final int MAX_ENTRIES = 1024;
  static final int MAX_PATTERN_LENGTH = 1024;

  /** The one cache the compiled expressions share: the same pattern in many rules compiles once. */
  static final PatternCache SHARED = new PatternCache(MAX_ENTRIES);

  private final int maxEntries;
  /** A {@link Pattern}, or the {@link EvaluationException} an invalid pattern gives. */
  private final ConcurrentHashMap<String, Object> compiled = new ConcurrentHashMap<>();
  private final LongAdder compilations = new LongAdder();

  PatternCache(int maxEntries) {
    this.maxEntries = maxEntries;
  }

  /** The compiled {@code pattern}; throws EvaluationException when it is not a valid RE2 pattern. */
  Pattern get(String pattern) {
    Object p = compiled.get(pattern);
    if (p == null) {
      if (pattern.length() > MAX_PATTERN_LENGTH) {
        p = compile(pattern);
      } else {
        makeRoom();
        // computeIfAbsent: threads that meet a new pattern together compile it once between them.
        p = compiled.computeIfAbsent(pattern, this::compile);
      }
    }
    if (p instanceof EvaluationException e) {
      throw e;
    }
    return (Pattern) p;
  }

  private Object compile(String pattern) {
    compilations.increment();
    String tooBig = RegexLimits.problem(pattern);
    if (tooBig != null) {
      return new EvaluationException("invalid regular expression " + GoStrings.quote(pattern) + ": " + tooBig);
    }
    try {
      return Pattern.compile(pattern);
    } catch (PatternSyntaxException e) {
      return new EvaluationException("invalid regular expression " + GoStrings.quote(pattern) + ": "
          + e.getDescription());
    }
  }

  /** Removes entries until one more fits; which ones does not matter for a bound on memory. */
  private void makeRoom() {
    Iterator<String> it = compiled.keySet().iterator();
    while (compiled.size() >= maxEntries && it.hasNext()) {
      it.next();
      it.remove();
    }
  }

  /** How many times a pattern was compiled (for tests). */
  long compilations() {
    return compilations.sum();
  }

  int size() {
    return compiled.size();
  }
}

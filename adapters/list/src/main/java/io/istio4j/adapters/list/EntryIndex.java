package io.istio4j.adapters.list;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.istio4j.adapters.list.config.Params.ListEntryType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The entries of a list, indexed for lookups of one entry type. Immutable, so a handler swaps
 * whole indexes and lookups never lock.
 */
sealed interface EntryIndex {

  /** What a lookup found. */
  enum Match {
    /** The value is on the list. */
    FOUND,
    /** The value is not on the list. */
    MISSING,
    /** The value cannot be on a list of this type (an IP list asked about a non-address). */
    INVALID
  }

  /** Looks {@code value} up. */
  Match match(String value);

  /** The number of entries the index was built from. */
  int size();

  /**
   * Indexes {@code entries} as {@code type}.
   *
   * @throws IllegalArgumentException naming the first entry that is not valid for the type
   */
  static EntryIndex of(ListEntryType type, List<String> entries) {
    for (String entry : entries) {
      String problem = problem(type, entry);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
    }
    return switch (type) {
      case STRINGS -> new Strings(Set.copyOf(entries), false, entries.size());
      case CASE_INSENSITIVE_STRINGS -> {
        Set<String> folded = new HashSet<>();
        entries.forEach(e -> folded.add(Strings.fold(e)));
        yield new Strings(Set.copyOf(folded), true, entries.size());
      }
      case IP_ADDRESSES -> IpRanges.of(entries);
      case REGEX -> Regexes.of(entries);
      case UNRECOGNIZED -> throw new IllegalArgumentException("entry type: " + type
          + " (expected: STRINGS, CASE_INSENSITIVE_STRINGS, IP_ADDRESSES or REGEX)");
    };
  }

  /** Why {@code entry} cannot be on a list of {@code type}, or null when it can. */
  static String problem(ListEntryType type, String entry) {
    switch (type) {
      case IP_ADDRESSES:
        return IpRange.parse(entry) == null
            ? entry + " is not an IP address or CIDR range (expected: for example 10.0.0.0/8, 1.2.3.4 or 2001:db8::/32)"
            : null;
      case REGEX:
        try {
          Pattern.compile(entry);
          return null;
        } catch (PatternSyntaxException e) {
          return entry + " is not an RE2 regular expression: " + e.getMessage();
        }
      default:
        return null;
    }
  }

  /** Exact or case-insensitive strings in a hash set: O(1) lookups. */
  record Strings(Set<String> entries, boolean ignoreCase, int size) implements EntryIndex {

    /**
     * The key case-insensitive entries and values are compared by. Upper then lower case folds
     * what either mapping alone misses (Greek final sigma, the Kelvin sign); Locale.ROOT keeps the
     * Turkish dotless i from changing the answer with the JVM's locale.
     */
    static String fold(String s) {
      return s.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
    }

    @Override
    public Match match(String value) {
      return entries.contains(ignoreCase ? fold(value) : value) ? Match.FOUND : Match.MISSING;
    }
  }

  /** IPv4 and IPv6 ranges in one binary trie each: O(prefix length) lookups. */
  record IpRanges(CidrTrie v4, CidrTrie v6, int size) implements EntryIndex {

    static IpRanges of(List<String> entries) {
      CidrTrie.Builder v4 = CidrTrie.builder();
      CidrTrie.Builder v6 = CidrTrie.builder();
      for (String entry : entries) {
        IpRange r = IpRange.parse(entry);
        (r.address().length == 4 ? v4 : v6).add(r.address(), r.prefixLength());
      }
      return new IpRanges(v4.build(), v6.build(), entries.size());
    }

    @Override
    public Match match(String value) {
      byte[] address = IpRange.lookupAddress(value);
      if (address == null) {
        return Match.INVALID;
      }
      return (address.length == 4 ? v4 : v6).contains(address) ? Match.FOUND : Match.MISSING;
    }
  }

  /**
   * RE2 expressions, each matching anywhere in the value. They are compiled into one alternation
   * so that a lookup is one linear pass over the value instead of one per expression.
   */
  record Regexes(Pattern any, List<Pattern> each, int size) implements EntryIndex {

    static Regexes of(List<String> entries) {
      List<Pattern> each = new ArrayList<>(entries.size());
      StringBuilder alternation = new StringBuilder();
      for (String entry : entries) {
        each.add(Pattern.compile(entry));
        alternation.append(alternation.length() == 0 ? "" : "|").append("(?:").append(entry).append(')');
      }
      Pattern any = null;
      if (!entries.isEmpty()) {
        try {
          any = Pattern.compile(alternation.toString());
        } catch (PatternSyntaxException e) {
          // Only an unterminated \Q...\E quote can do this: it swallows the closing parenthesis.
          // Matching the expressions one by one gives the same answers, more slowly.
        }
      }
      return new Regexes(any, List.copyOf(each), entries.size());
    }

    @Override
    public Match match(String value) {
      if (any != null) {
        return any.matcher(value).find() ? Match.FOUND : Match.MISSING;
      }
      for (Pattern p : each) {
        if (p.matcher(value).find()) {
          return Match.FOUND;
        }
      }
      return Match.MISSING;
    }
  }
}

package io.istio4j.adapters.list;

import java.util.Arrays;

/**
 * A set of address ranges (CIDR prefixes) of one address length, as a binary trie over the
 * address bits: a lookup walks at most one node per bit, so it costs O(prefix length) whatever the
 * number of ranges, and stops at the first range that covers the address. Immutable once built.
 *
 * <p>Nodes live in two arrays instead of objects: node {@code n}'s children are {@code
 * children[2n]} (bit 0) and {@code children[2n + 1]} (bit 1), 0 meaning none (the root, node 0, is
 * never a child).
 */
final class CidrTrie {

  private final int[] children;
  private final boolean[] terminal;

  private CidrTrie(int[] children, boolean[] terminal) {
    this.children = children;
    this.terminal = terminal;
  }

  /** Starts an empty trie. */
  static Builder builder() {
    return new Builder();
  }

  /** True when a range of the trie holds {@code address} (of the trie's address length). */
  boolean contains(byte[] address) {
    int bits = address.length * 8;
    int node = 0;
    for (int i = 0; ; i++) {
      if (terminal[node]) {
        return true;
      }
      if (i == bits) {
        return false;
      }
      node = children[2 * node + bit(address, i)];
      if (node == 0) {
        return false;
      }
    }
  }

  /** The number of trie nodes, a measure of its memory. */
  int nodes() {
    return terminal.length;
  }

  private static int bit(byte[] address, int i) {
    return (address[i >>> 3] >>> (7 - (i & 7))) & 1;
  }

  /** Collects ranges. */
  static final class Builder {
    private int[] children = new int[64];
    private boolean[] terminal = new boolean[32];
    private int size = 1;

    private Builder() {}

    /** Adds the range of addresses whose first {@code prefixLength} bits equal {@code address}'s. */
    Builder add(byte[] address, int prefixLength) {
      if (prefixLength < 0 || prefixLength > address.length * 8) {
        throw new IllegalArgumentException(
            "prefixLength: " + prefixLength + " (expected: 0-" + address.length * 8 + ")");
      }
      int node = 0;
      for (int i = 0; i < prefixLength; i++) {
        if (terminal[node]) {
          return this; // a shorter range already covers this one
        }
        int slot = 2 * node + bit(address, i);
        if (children[slot] == 0) {
          int child = newNode(); // may replace the arrays: not inlined into the assignment
          children[slot] = child;
        }
        node = children[slot];
      }
      terminal[node] = true;
      return this;
    }

    private int newNode() {
      if (size == terminal.length) {
        terminal = Arrays.copyOf(terminal, size * 2);
        children = Arrays.copyOf(children, size * 4);
      }
      return size++;
    }

    /** The trie, trimmed to its nodes. */
    CidrTrie build() {
      return new CidrTrie(Arrays.copyOf(children, 2 * size), Arrays.copyOf(terminal, size));
    }
  }
}

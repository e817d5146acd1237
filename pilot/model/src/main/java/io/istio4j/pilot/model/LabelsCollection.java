package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.StringJoiner;

/** "Any of these label sets": the selector used to pick instances. Empty matches everything. */
public record LabelsCollection(List<Labels> sets) {
  /** Matches every instance. */
  public static final LabelsCollection ALL = new LabelsCollection(List.of());

  public LabelsCollection {
    sets = List.copyOf(requireNonNull(sets, "sets"));
  }

  public static LabelsCollection of(Labels... sets) {
    return new LabelsCollection(List.of(sets));
  }

  /** True when the collection is empty or any member is a subset of {@code labels}. */
  public boolean hasSubsetOf(Labels labels) {
    if (sets.isEmpty()) {
      return true;
    }
    for (Labels s : sets) {
      if (s.subsetOf(labels)) {
        return true;
      }
    }
    return false;
  }

  /** Upstream's form: each set's string form, joined by {@code ;}. */
  @Override
  public String toString() {
    StringJoiner j = new StringJoiner(";");
    for (Labels s : sets) {
      j.add(s.toString());
    }
    return j.toString();
  }
}

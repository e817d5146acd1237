package io.istio4j.adapter.template;

/** What a template is for, numbered as upstream's {@code istio.mixer.v1.template.TemplateVariety}. */
public enum Variety {
  /** Instances go to CHECK handlers, one call per instance, during Check. */
  CHECK(0),
  /** Instances go to REPORT handlers in batches, during Report. */
  REPORT(1),
  /** Instances go to QUOTA handlers, one call per quota asked for, during Check. */
  QUOTA(2),
  /** Instances produce attributes (not used by this Mixer yet). */
  ATTRIBUTE_GENERATOR(3);

  private final int number;

  Variety(int number) {
    this.number = number;
  }

  /** The number of the variety in a template's {@code template_variety} file option. */
  public int number() {
    return number;
  }
}

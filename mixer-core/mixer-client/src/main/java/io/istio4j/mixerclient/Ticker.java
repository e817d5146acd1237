package io.istio4j.mixerclient;

/** A nanosecond clock; tests substitute a fake one to move time without sleeping. */
@FunctionalInterface
interface Ticker {
  Ticker SYSTEM = System::nanoTime;

  long nanos();
}

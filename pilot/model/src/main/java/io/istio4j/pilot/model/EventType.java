package io.istio4j.pilot.model;

/** What happened to an object a registry or config store reports. */
public enum EventType {
  ADD,
  UPDATE,
  DELETE
}

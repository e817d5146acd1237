package io.istio4j.pilot.model;

/** A config store refused a read or write; the message names the object and the reason. */
public class ConfigStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigStoreException(String message) {
    super(message);
  }

  public ConfigStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

/**
 * One subject alternative name of a CSR or certificate, of a type the CA issues: a URI (a SPIFFE
 * ID) or a DNS name (the CA's own serving certificate).
 *
 * @param type URI or DNS
 * @param value the name
 */
public record SubjectAltName(Type type, String value) {

  /** The SAN types the CA issues. */
  public enum Type {
    /** A uniformResourceIdentifier: a SPIFFE ID. */
    URI,
    /** A dNSName. */
    DNS
  }

  /** Both parts required. */
  public SubjectAltName {
    requireNonNull(type, "type");
    requireNonNull(value, "value");
  }

  /** A URI SAN naming a SPIFFE ID. */
  public static SubjectAltName uri(SpiffeId id) {
    return new SubjectAltName(Type.URI, id.toString());
  }

  /** A DNS SAN. */
  public static SubjectAltName dns(String name) {
    return new SubjectAltName(Type.DNS, name);
  }

  @Override
  public String toString() {
    return type + ":" + value;
  }
}

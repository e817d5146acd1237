package io.istio4j.ca;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A SPIFFE ID, {@code spiffe://<trust-domain><path>}, checked against the SPIFFE standard's rules:
 * scheme {@code spiffe}; a trust domain of lower-case letters, digits, {@code .}, {@code -} and
 * {@code _} (at most 255 bytes, no port or user info); path segments of letters, digits,
 * {@code .}, {@code -} and {@code _}, none empty, {@code .} or {@code ..}, no trailing {@code /};
 * no query, fragment or percent-encoding; at most 2048 bytes in all.
 *
 * <pre>{@code
 * SpiffeId id = SpiffeId.parse("spiffe://cluster.local/ns/default/sa/bookinfo");
 * id.serviceAccount(); // Optional[default/bookinfo]
 * }</pre>
 *
 * @param trustDomain the trust domain (host part)
 * @param path the path, empty for a trust domain's own ID, else starting with {@code /}
 */
public record SpiffeId(String trustDomain, String path) {

  /** The URI scheme prefix. */
  public static final String PREFIX = "spiffe://";
  /** The longest SPIFFE ID accepted, in bytes. */
  public static final int MAX_LENGTH = 2048;
  /** The longest trust domain accepted, in bytes. */
  public static final int MAX_TRUST_DOMAIN_LENGTH = 255;

  /** Validates both parts; throws {@link IllegalArgumentException} naming what is wrong. */
  public SpiffeId {
    requireNonNull(trustDomain, "trustDomain");
    requireNonNull(path, "path");
    String problem = trustDomainProblem(trustDomain);
    if (problem == null) {
      problem = pathProblem(path);
    }
    if (problem == null && PREFIX.length() + trustDomain.length() + path.length() > MAX_LENGTH) {
      problem = "longer than " + MAX_LENGTH + " bytes";
    }
    if (problem != null) {
      throw new IllegalArgumentException("SPIFFE ID '" + truncate(PREFIX + trustDomain + path) + "': " + problem);
    }
  }

  /**
   * Parses a SPIFFE ID.
   *
   * @throws IllegalArgumentException naming the ID (truncated) and the rule it breaks
   */
  public static SpiffeId parse(String uri) {
    requireNonNull(uri, "uri");
    if (uri.getBytes(UTF_8).length > MAX_LENGTH) {
      throw new IllegalArgumentException("SPIFFE ID '" + truncate(uri) + "': longer than " + MAX_LENGTH + " bytes");
    }
    if (!uri.startsWith(PREFIX)) {
      throw new IllegalArgumentException("SPIFFE ID '" + truncate(uri) + "': expected scheme 'spiffe://'");
    }
    int slash = uri.indexOf('/', PREFIX.length());
    String trustDomain = slash < 0 ? uri.substring(PREFIX.length()) : uri.substring(PREFIX.length(), slash);
    String path = slash < 0 ? "" : uri.substring(slash);
    return new SpiffeId(trustDomain, path);
  }

  /** The ID of a Kubernetes service account: {@code spiffe://<td>/ns/<namespace>/sa/<name>}. */
  public static SpiffeId forServiceAccount(String trustDomain, String namespace, String serviceAccount) {
    checkKubernetesName("namespace", namespace, 63, false);
    checkKubernetesName("service account", serviceAccount, 253, true);
    return new SpiffeId(trustDomain, "/ns/" + namespace + "/sa/" + serviceAccount);
  }

  /**
   * Kubernetes names: a namespace is a DNS-1123 label, a service account name a DNS-1123
   * subdomain; either way no '/' can smuggle extra path segments into the ID.
   */
  private static void checkKubernetesName(String what, String name, int max, boolean dots) {
    requireNonNull(name, what);
    boolean ok = !name.isEmpty() && name.length() <= max;
    for (int i = 0; ok && i < name.length(); i++) {
      char c = name.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      boolean edge = i == 0 || i == name.length() - 1;
      ok = alnum || (!edge && (c == '-' || (dots && c == '.')));
    }
    if (!ok) {
      throw new IllegalArgumentException(what + " '" + truncate(name) + "' (expected: a Kubernetes name: lower-case "
          + "letters, digits and '-'" + (dots ? " or '.'" : "") + ", starting and ending alphanumeric, at most " + max
          + " characters)");
    }
  }

  /** Checks a trust domain alone, as {@code --trust-domain} gives it. */
  public static String checkTrustDomain(String trustDomain) {
    String problem = trustDomainProblem(requireNonNull(trustDomain, "trustDomain"));
    if (problem != null) {
      throw new IllegalArgumentException("trust domain '" + truncate(trustDomain) + "': " + problem);
    }
    return trustDomain;
  }

  /** Whether this names a workload (a non-root path), as a leaf SVID must. */
  public boolean isWorkload() {
    return !path.isEmpty();
  }

  /**
   * The namespace and service account when the path is {@code /ns/<namespace>/sa/<name>}.
   */
  public Optional<ServiceAccountName> serviceAccount() {
    String[] segments = path.split("/", -1);
    if (segments.length == 5 && segments[1].equals("ns") && segments[3].equals("sa")) {
      return Optional.of(new ServiceAccountName(segments[2], segments[4]));
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return PREFIX + trustDomain + path;
  }

  /** A Kubernetes service account, {@code namespace/name}. */
  public record ServiceAccountName(String namespace, String name) {
    /** Both parts required. */
    public ServiceAccountName {
      requireNonNull(namespace, "namespace");
      requireNonNull(name, "name");
    }

    @Override
    public String toString() {
      return namespace + "/" + name;
    }
  }

  private static String trustDomainProblem(String td) {
    if (td.isEmpty()) {
      return "trust domain is empty";
    }
    if (td.length() > MAX_TRUST_DOMAIN_LENGTH) {
      return "trust domain longer than " + MAX_TRUST_DOMAIN_LENGTH + " bytes";
    }
    for (int i = 0; i < td.length(); i++) {
      char c = td.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
        return "trust domain character '" + printable(c) + "' at " + i
            + " (expected: lower-case letters, digits, '.', '-', '_'; no port, user info or percent-encoding)";
      }
    }
    return null;
  }

  private static String pathProblem(String path) {
    if (path.isEmpty()) {
      return null;
    }
    if (path.charAt(0) != '/') {
      return "path must start with '/'";
    }
    int start = 1;
    while (true) {
      int end = path.indexOf('/', start);
      String segment = end < 0 ? path.substring(start) : path.substring(start, end);
      if (segment.isEmpty()) {
        return end < 0 ? "path ends with '/'" : "path has an empty segment";
      }
      if (segment.equals(".") || segment.equals("..")) {
        return "path segment '" + segment + "' (expected: no '.' or '..' segments)";
      }
      for (int i = 0; i < segment.length(); i++) {
        char c = segment.charAt(i);
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'
            || c == '_')) {
          return "path character '" + printable(c) + "' in segment '" + truncate(segment)
              + "' (expected: letters, digits, '.', '-', '_'; no query, fragment or percent-encoding)";
        }
      }
      if (end < 0) {
        return null;
      }
      start = end + 1;
    }
  }

  private static String printable(char c) {
    return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c);
  }

  private static String truncate(String s) {
    return s.length() <= 100 ? s : s.substring(0, 100) + "...";
  }
}

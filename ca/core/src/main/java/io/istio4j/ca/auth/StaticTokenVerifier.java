package io.istio4j.ca.auth;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.istio4j.ca.SpiffeId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bearer tokens from a file, for tests and VMs without a Kubernetes API: one token per line,
 * followed by the SPIFFE IDs it proves, separated by white space ({@code #} starts a comment).
 *
 * <pre>
 * # token                            identities
 * 3q2+7wXd0c1RkZmVhZDA1NjdmYTQ2ZTk   spiffe://cluster.local/ns/vm/sa/mysql
 * </pre>
 *
 * <p>Tokens are kept and compared as SHA-256 digests, so the lookup time does not depend on how
 * much of a guessed token matches.
 */
public final class StaticTokenVerifier implements TokenVerifier {

  private final Map<String, Set<String>> identitiesByDigest;

  private StaticTokenVerifier(Map<String, Set<String>> identitiesByDigest) {
    this.identitiesByDigest = Map.copyOf(identitiesByDigest);
  }

  /**
   * Reads a token file.
   *
   * @throws IOException naming the file and line that is malformed
   */
  public static StaticTokenVerifier load(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, UTF_8);
    Map<String, Set<String>> map = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] parts = line.split("\\s+");
      String where = "token file " + file + " line " + (i + 1);
      if (parts.length < 2) {
        throw new IOException(where + ": a token with no identity (expected: TOKEN SPIFFE-ID...)");
      }
      if (parts[0].length() < 16) {
        throw new IOException(where + ": token of " + parts[0].length() + " characters (expected: at least 16)");
      }
      Set<String> ids = new LinkedHashSet<>();
      for (int p = 1; p < parts.length; p++) {
        try {
          ids.add(SpiffeId.parse(parts[p]).toString());
        } catch (IllegalArgumentException e) {
          throw new IOException(where + ": " + e.getMessage(), e);
        }
      }
      if (map.put(digest(parts[0]), Set.copyOf(ids)) != null) {
        throw new IOException(where + ": the same token appears twice");
      }
    }
    return new StaticTokenVerifier(map);
  }

  @Override
  public Set<String> verify(String token) {
    Set<String> ids = identitiesByDigest.get(digest(token));
    return ids == null ? Set.of() : ids;
  }

  /** How many tokens the file holds. */
  public int size() {
    return identitiesByDigest.size();
  }

  private static String digest(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

package io.istio4j.pilot.discovery;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version this build was made from, for {@code pilot-discovery version} and {@code /version}. */
final class BuildInfo {

  private static final String VERSION = load();

  private BuildInfo() {}

  /** The project version, for example {@code 0.1.0-SNAPSHOT}. */
  static String version() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = BuildInfo.class.getResourceAsStream("version.properties")) {
      Properties p = new Properties();
      if (in != null) {
        p.load(in);
      }
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}

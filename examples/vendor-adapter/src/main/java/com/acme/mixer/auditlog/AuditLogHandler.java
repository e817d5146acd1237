package com.acme.mixer.auditlog;

import com.acme.mixer.template.auditentry.AuditEntryHandler;
import com.acme.mixer.template.auditentry.AuditEntryInstance;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.FileOutputPolicy;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Appends each batch of audit entries to the file and flushes once per batch. */
final class AuditLogHandler implements AuditEntryHandler {

  private final Writer out;
  private final int maxDetailLength;
  private final Env env;
  private boolean failing;

  AuditLogHandler(Path path, int maxDetailLength, Env env) throws IOException {
    // openAppend never follows a symbolic link put in the file's place.
    this.out = new BufferedWriter(new OutputStreamWriter(FileOutputPolicy.openAppend(path), StandardCharsets.UTF_8));
    this.maxDetailLength = maxDetailLength;
    this.env = env;
  }

  @Override
  public synchronized void handleAuditEntry(List<AuditEntryInstance> instances) {
    try {
      for (AuditEntryInstance e : instances) {
        StringBuilder line = new StringBuilder(128).append('{');
        field(line, "instance", e.name()).append(',');
        field(line, "principal", e.principal()).append(',');
        field(line, "action", e.action()).append(',');
        field(line, "resource", e.resource()).append(',');
        field(line, "at", e.at().toString()).append(",\"details\":{");
        String sep = "";
        for (Map.Entry<String, Object> d : e.details().entrySet()) {
          line.append(sep);
          field(line, d.getKey(), cut(String.valueOf(d.getValue())));
          sep = ",";
        }
        out.append(line.append("}}\n"));
      }
      out.flush();
      if (failing) {
        failing = false;
        env.clearError();
      }
    } catch (IOException e) {
      // A full disk is for the operator to fix: shown as the handler's error on /debug/config.
      failing = true;
      env.reportError("cannot append to the audit log: " + e.getMessage());
      throw new UncheckedIOException("cannot append to the audit log", e);
    }
  }

  private String cut(String value) {
    return maxDetailLength > 0 && value.length() > maxDetailLength ? value.substring(0, maxDetailLength) : value;
  }

  private static StringBuilder field(StringBuilder line, String name, String value) {
    return quote(quote(line, name).append(':'), value);
  }

  private static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"');
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}

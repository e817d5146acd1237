package com.acme.mixer.auditlog;

import com.acme.mixer.auditlog.config.Params;
import com.acme.mixer.template.auditentry.AuditEntryHandlerBuilder;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import java.nio.file.Path;

/** Checks an auditlog handler's config and opens its file. */
final class AuditLogBuilder implements AuditEntryHandlerBuilder<Params> {

  private Params params;

  @Override
  public void setAdapterConfig(Params params) {
    this.params = params;
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    if (params.getPath().isEmpty()) {
      errors.add("path", "required: the file to append audit entries to");
    }
    if (params.getMaxDetailLength() < 0) {
      errors.addf("maxDetailLength", "must be >= 0, got %d", params.getMaxDetailLength());
    }
    return errors;
  }

  @Override
  public Handler build(Env env) throws Exception {
    // Only where the operator allowed (mixs server --allowedOutputDir); else the build fails, naming the flag.
    Path path = env.fileOutputPolicy().resolve(params.getPath());
    env.logger().info("appending audit entries to {}", path);
    return new AuditLogHandler(path, params.getMaxDetailLength(), env);
  }
}

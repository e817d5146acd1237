package com.acme.mixer.auditlog;

import com.acme.mixer.auditlog.config.Params;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;

/** ACME's audit log adapter: appends every {@code auditentry} instance to a file as a JSON line. */
public final class AuditLogAdapter implements Adapter {

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("auditlog")
        .description("Appends audit entries to a file, one JSON object per line")
        .supportedTemplates("auditentry")
        .defaultConfig(Params.newBuilder().setMaxDetailLength(256).build())
        .builderFactory(AuditLogBuilder::new)
        .build();
  }
}

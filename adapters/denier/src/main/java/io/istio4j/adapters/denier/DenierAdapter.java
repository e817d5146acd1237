package io.istio4j.adapters.denier;

import com.google.protobuf.util.Durations;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapters.denier.config.Params;

/**
 * The denier adapter: answers every check (checknothing, listentry) and quota call with its
 * configured status, valid duration and use count. Defaults as upstream: FAILED_PRECONDITION, 5s,
 * 1000 uses.
 *
 * <pre>{@code
 * kind: denier
 * metadata: {name: handler, namespace: istio-system}
 * spec: {status: {code: 7, message: "Not allowed"}}
 * }</pre>
 */
public final class DenierAdapter implements Adapter {

  static final Params DEFAULTS = Params.newBuilder()
      .setStatus(Status.newBuilder().setCode(Code.FAILED_PRECONDITION_VALUE))
      .setValidDuration(Durations.fromSeconds(5))
      .setValidUseCount(1000)
      .build();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("denier")
        .description("Rejects any check and quota request with a configured status")
        .supportedTemplates("checknothing", "listentry", "quota")
        .defaultConfig(DEFAULTS)
        .builderFactory(DenierBuilder::new)
        .build();
  }
}

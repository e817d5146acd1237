package com.acme.mixer.blocklist;

import com.acme.mixer.blocklist.config.Params;
import com.google.protobuf.Duration;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;

/** ACME's blocklist adapter: a CHECK adapter for the bundled {@code listentry} template. */
public final class BlocklistAdapter implements Adapter {

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("blocklist")
        .description("Denies requests whose listentry value is on a configured list")
        .supportedTemplates("listentry")
        .defaultConfig(Params.newBuilder().setValidDuration(Duration.newBuilder().setSeconds(60)).build())
        .builderFactory(BlocklistBuilder::new)
        .build();
  }
}

package com.acme.mixer.budget;

import com.acme.mixer.budget.config.Params;
import com.google.protobuf.Duration;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;

/** ACME's budget adapter: a QUOTA adapter for the bundled {@code quota} template, answering asynchronously. */
public final class BudgetAdapter implements Adapter {

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("budget")
        .description("Grants each set of quota dimensions a fixed amount per window")
        .supportedTemplates("quota")
        .defaultConfig(Params.newBuilder().setMaxAmount(100).setWindow(Duration.newBuilder().setSeconds(1)).build())
        .builderFactory(BudgetBuilder::new)
        .build();
  }
}

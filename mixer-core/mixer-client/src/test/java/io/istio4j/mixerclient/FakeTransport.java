package io.istio4j.mixerclient;

import com.google.protobuf.Duration;
import com.google.rpc.Status;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.PreconditionResult;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import io.istio4j.mixer.v1.ReferencedAttributes.Condition;
import io.istio4j.mixer.v1.ReportRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A scripted Mixer: answers Checks with a function, records every request. */
final class FakeTransport implements MixerTransport {

  final List<CheckRequest> checks = new CopyOnWriteArrayList<>();
  final List<Map<String, String>> checkHeaders = new CopyOnWriteArrayList<>();
  final List<ReportRequest> reports = new CopyOnWriteArrayList<>();
  volatile Function<CheckRequest, CompletableFuture<CheckResponse>> onCheck =
      r -> CompletableFuture.completedFuture(ok(10, 200, refs()));
  volatile Function<ReportRequest, CompletableFuture<Void>> onReport = r -> CompletableFuture.completedFuture(null);

  @Override
  public CompletableFuture<CheckResponse> check(CheckRequest request, Map<String, String> headers, long timeoutNanos) {
    checks.add(request);
    checkHeaders.add(headers);
    return onCheck.apply(request);
  }

  @Override
  public CompletableFuture<Void> report(ReportRequest request, long timeoutNanos) {
    reports.add(request);
    return onReport.apply(request);
  }

  @Override
  public void close() {}

  static CheckResponse ok(long seconds, int uses, ReferencedAttributes refs) {
    return answer(0, "", seconds, uses, refs);
  }

  static CheckResponse answer(int code, String message, long seconds, int uses, ReferencedAttributes refs) {
    return CheckResponse.newBuilder().setPrecondition(PreconditionResult.newBuilder()
        .setStatus(Status.newBuilder().setCode(code).setMessage(message))
        .setValidDuration(Duration.newBuilder().setSeconds(seconds))
        .setValidUseCount(uses)
        .setReferencedAttributes(refs)).build();
  }

  /** Builds ReferencedAttributes from "name COND" or "name[key] COND" strings, all words message-local. */
  static ReferencedAttributes refs(String... matches) {
    ReferencedAttributes.Builder b = ReferencedAttributes.newBuilder();
    List<String> words = new ArrayList<>();
    for (String m : matches) {
      String[] parts = m.split(" ");
      String name = parts[0];
      String key = null;
      int open = name.indexOf('[');
      if (open > 0) {
        key = name.substring(open + 1, name.length() - 1);
        name = name.substring(0, open);
      }
      AttributeMatch.Builder am = AttributeMatch.newBuilder()
          .setName(slot(words, name)).setCondition(Condition.valueOf(parts[1]));
      if (key != null) {
        am.setMapKey(slot(words, key));
      }
      if (parts[1].equals("REGEX")) {
        am.setRegex(".*");
      }
      b.addAttributeMatches(am);
    }
    return b.addAllWords(words).build();
  }

  private static int slot(List<String> words, String w) {
    int i = words.indexOf(w);
    if (i < 0) {
      words.add(w);
      i = words.size() - 1;
    }
    return -i - 1;
  }
}

package io.istio4j.mixer.server;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.istio4j.mixer.transport.RawMarshaller;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Reads a request's bytes for the Mixer service; a request that cannot be read becomes the {@link
 * Status} to answer it with instead of an exception. grpc-java answers any exception thrown while
 * parsing a request {@code UNKNOWN} ("Application error processing RPC") and closes the stream
 * past the server call, so neither the client nor the call metrics would learn what happened.
 * Reading fails only for compressed requests: corrupt compressed data is {@code INVALID_ARGUMENT};
 * data that inflates past {@code --maxMessageSize} (a gzip bomb) is {@code RESOURCE_EXHAUSTED},
 * as gRPC answers an uncompressed message that is too large.
 */
final class RequestBytes implements MethodDescriptor.Marshaller<Object> {

  static final RequestBytes INSTANCE = new RequestBytes();

  private RequestBytes() {}

  @Override
  public InputStream stream(Object value) {
    return new ByteArrayInputStream((byte[]) value);
  }

  @Override
  public Object parse(InputStream in) {
    try {
      return RawMarshaller.INSTANCE.parse(in);
    } catch (UncheckedIOException e) {
      String why = e.getCause().getMessage() == null ? "truncated" : e.getCause().getMessage();
      return Status.INVALID_ARGUMENT.withDescription("request could not be decompressed: " + why);
    } catch (StatusRuntimeException e) {
      // gRPC's size limit on the inflated bytes: RESOURCE_EXHAUSTED, naming the limit.
      return e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED
          ? e.getStatus().withCause(null)
          : Status.INVALID_ARGUMENT.withDescription("request could not be read: " + e.getStatus().getDescription());
    } catch (RuntimeException e) { // a decompressor's own failure: still the request's fault
      return Status.INVALID_ARGUMENT.withDescription("request could not be decompressed");
    }
  }
}

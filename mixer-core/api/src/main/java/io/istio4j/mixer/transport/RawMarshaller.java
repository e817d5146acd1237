package io.istio4j.mixer.transport;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A gRPC marshaller that passes messages through as bytes, for code that decodes or encodes the
 * wire format itself (Mixer's request decoder, the load generator's pre-serialized requests).
 *
 * <pre>{@code
 * MethodDescriptor<byte[], byte[]> raw =
 *     MixerGrpc.getCheckMethod().toBuilder(RawMarshaller.INSTANCE, RawMarshaller.INSTANCE).build();
 * }</pre>
 */
public final class RawMarshaller implements MethodDescriptor.Marshaller<byte[]> {

  /** The one instance; it holds no state. */
  public static final RawMarshaller INSTANCE = new RawMarshaller();

  private RawMarshaller() {}

  @Override
  public InputStream stream(byte[] value) {
    return new ByteArrayInputStream(value);
  }

  @Override
  public byte[] parse(InputStream in) {
    try {
      if (!(in instanceof KnownLength)) {
        return in.readAllBytes();
      }
      int n = in.available();
      byte[] b = in.readNBytes(n);
      int next = in.read();
      if (next == -1) {
        return b;
      }
      // More than the stream announced: keep everything.
      ByteArrayOutputStream out = new ByteArrayOutputStream(n * 2 + 16);
      out.write(b);
      out.write(next);
      in.transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

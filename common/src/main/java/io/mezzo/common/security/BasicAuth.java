package io.mezzo.common.security;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.Executor;

/**
 * How a principal and secret travel on the wire: an {@code authorization: Basic
 * base64(principal:secret)} header, the same on gRPC (as call credentials, see {@link
 * #callCredentials}) and HTTP ({@code curl -u principal:secret}). Only ever sent over TLS in a
 * secure cluster: the header is not encrypted by itself.
 *
 * <p>Stateless; any thread.
 */
public final class BasicAuth {

    /** The gRPC metadata key of the header. */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private BasicAuth() {}

    /** The header value for {@code credential}. */
    public static String header(Credential credential) {
        String raw = credential.principal() + ":" + credential.secret();
        return "Basic " + Base64.getEncoder().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The credential in a header value, or null when the value is not a well-formed Basic header
     * (callers answer UNAUTHENTICATED).
     */
    public static Credential parse(String header) {
        if (header == null || header.length() < 6 || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String raw;
        try {
            raw = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = raw.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        return new Credential(raw.substring(0, colon), raw.substring(colon + 1));
    }

    /** Call credentials that attach {@code credential} to every call. */
    public static CallCredentials callCredentials(Credential credential) {
        String value = header(credential);
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
                try {
                    Metadata headers = new Metadata();
                    headers.put(AUTHORIZATION, value);
                    applier.apply(headers);
                } catch (RuntimeException e) {
                    applier.fail(Status.UNAUTHENTICATED.withDescription("cannot attach credentials").withCause(e));
                }
            }

            @Override
            public String toString() {
                return "BasicAuth[" + credential.principal() + "]";
            }
        };
    }
}

package io.mezzo.common.grpc;

import io.grpc.Metadata;

/**
 * The "the leader is elsewhere" hint of the wire protocol: a master that does not lead answers
 * every call UNAVAILABLE with the leader's {@code host:port}, when it knows it, in the {@code
 * mezzo-leader} trailer. Schedulers (and any peer) may connect there at once instead of waiting for
 * leader detection. One definition for the master that writes it and the clients that read it.
 *
 * <p>Immutable; any thread.
 */
public final class LeaderHint {

    /** The trailer carrying the leader's {@code host:port}. */
    public static final Metadata.Key<String> KEY = Metadata.Key.of("mezzo-leader", Metadata.ASCII_STRING_MARSHALLER);

    private LeaderHint() {}

    /** Trailers naming {@code leader} ({@code host:port}). */
    public static Metadata trailers(String leader) {
        Metadata trailers = new Metadata();
        trailers.put(KEY, leader);
        return trailers;
    }

    /** The leader named in {@code trailers}, or null when there is none. */
    public static String read(Metadata trailers) {
        return trailers == null ? null : trailers.get(KEY);
    }
}

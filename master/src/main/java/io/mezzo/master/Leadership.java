package io.mezzo.master;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.proto.v1.MasterInfo;

/**
 * Whether this master leads, as the gRPC edge sees it. A standalone master leads from the moment
 * its state machine has started. Calls that reach a master that does not lead are answered
 * UNAVAILABLE with the leader's address (when known) in the {@code mezzo-leader} trailer.
 *
 * <p>Written by the thread that changes leadership; read by gRPC threads (volatile fields).
 */
final class Leadership {

    /** Trailer key carrying the leader's "host:port". */
    static final Metadata.Key<String> LEADER_KEY = Metadata.Key.of("mezzo-leader", Metadata.ASCII_STRING_MARSHALLER);

    private volatile boolean leading;
    private volatile MasterInfo leader;

    void lead(MasterInfo self) {
        leader = self;
        leading = true;
    }

    boolean leading() {
        return leading;
    }

    MasterInfo leader() {
        return leader;
    }

    /** The error for a call that reached a master that does not lead. */
    StatusRuntimeException notLeader() {
        Metadata trailers = new Metadata();
        MasterInfo l = leader;
        String where = "no leader is known yet";
        if (l != null && !leading) {
            trailers.put(LEADER_KEY, l.getIp() + ":" + l.getPort());
            where = "the leader is " + l.getIp() + ":" + l.getPort();
        }
        return Status.UNAVAILABLE.withDescription("this master is not the leader; " + where).asRuntimeException(trailers);
    }
}

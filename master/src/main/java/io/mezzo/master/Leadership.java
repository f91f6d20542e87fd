package io.mezzo.master;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.proto.v1.MasterInfo;

/**
 * Whether this master leads, as the gRPC and HTTP edges see it, and who leads otherwise. Calls
 * that reach a master that does not lead (a standby, a leader whose ZooKeeper connection is
 * suspended, or one that lost leadership) are answered UNAVAILABLE with the leader's address, when
 * known, in the {@code mezzo-leader} trailer ({@link LeaderHint}).
 *
 * <p>Owner: {@link Master}. Written by the election thread; read by gRPC and HTTP threads (volatile
 * fields). The loop's own view of the term is {@link LeaderTerm}. Soft state: it reflects the
 * election.
 */
final class Leadership {

    private volatile boolean leading;
    private volatile MasterInfo leader;
    private volatile MasterInfo self;

    /** This master leads (again). */
    void lead(MasterInfo info) {
        self = info;
        leader = info;
        leading = true;
    }

    /** This master stops acting (suspended or lost); the leader, if known, is set by the detector. */
    void stopLeading() {
        leading = false;
    }

    /** The detector saw {@code info} (possibly null) as the leader. */
    void leaderIs(MasterInfo info) {
        MasterInfo me = self;
        if (me != null && info != null && info.getId().equals(me.getId())) {
            // Our own record (with the epoch and elected time this master keeps) over the znode's copy.
            leader = me;
            return;
        }
        if (leading && me != null && (info == null || !info.getId().equals(me.getId()))) {
            // Our own view is authoritative while we act; a stale znode must not hide it.
            return;
        }
        leader = info;
    }

    boolean leading() {
        return leading;
    }

    /** The leader as last seen; null if unknown. */
    MasterInfo leader() {
        return leader;
    }

    /** The error for a call that reached a master that does not lead. */
    StatusRuntimeException notLeader() {
        Metadata trailers = new Metadata();
        MasterInfo l = leader;
        MasterInfo me = self;
        String where = "no leader is known yet";
        if (l != null && (me == null || !l.getId().equals(me.getId()))) {
            trailers.put(LeaderHint.KEY, l.getIp() + ":" + l.getPort());
            where = "the leader is " + l.getIp() + ":" + l.getPort();
        }
        return Status.UNAVAILABLE.withDescription("this master is not the leader; " + where).asRuntimeException(trailers);
    }
}

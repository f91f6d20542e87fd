package io.mezzo.master;

import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.proto.v1.Event;

/**
 * One scheduler stream. Created by {@link SchedulerService} on a gRPC thread; {@code framework}
 * and {@code subscribing} are set and read on the loop thread only (by {@link FrameworkManager}).
 * Soft state: a stream lives as long as its connection.
 */
final class SchedulerConnection {

    final long id;
    final String peer;
    final OutboundStream<Event> out;
    /** The authenticated principal of the stream (AuthContext); null when anonymous. */
    final String principal;
    /** The framework subscribed on this stream; null before SUBSCRIBE. Loop thread only. */
    FrameworkId framework;
    /** A SUBSCRIBE on this stream is being made durable. Loop thread only. */
    boolean subscribing;

    SchedulerConnection(long id, String peer, OutboundStream<Event> out) {
        this(id, peer, out, null);
    }

    SchedulerConnection(long id, String peer, OutboundStream<Event> out, String principal) {
        this.id = id;
        this.peer = peer;
        this.out = out;
        this.principal = principal;
    }

    @Override
    public String toString() {
        return "scheduler stream " + id + " from " + peer;
    }
}

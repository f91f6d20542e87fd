package io.mezzo.master;

import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.id.AgentId;
import io.mezzo.proto.v1.MasterMessage;

/**
 * One agent stream. Created by {@link AgentLinkService} on a gRPC thread; {@code agent} and {@code
 * registering} are set and read on the loop thread only (by {@link AgentManager} and {@link
 * AgentReregistration}). Soft state: a stream lives as long as its connection.
 */
final class AgentConnection {

    final long id;
    final String peer;
    final OutboundStream<MasterMessage> out;
    /** The authenticated principal of the stream (AuthContext); null when anonymous. */
    final String principal;
    /** The agent registered on this stream; null before REGISTER. Loop thread only. */
    AgentId agent;
    /** A REGISTER or REREGISTER on this stream is being made durable. Loop thread only. */
    boolean registering;
    /** The parts of a paged REREGISTER received so far (null when none is pending). Loop thread only. */
    io.mezzo.proto.v1.AgentMessage.Reregister.Builder pagedReport;
    /** How many parts {@link #pagedReport} holds. Loop thread only. */
    int pagedParts;

    AgentConnection(long id, String peer, OutboundStream<MasterMessage> out) {
        this(id, peer, out, null);
    }

    AgentConnection(long id, String peer, OutboundStream<MasterMessage> out, String principal) {
        this.id = id;
        this.peer = peer;
        this.out = out;
        this.principal = principal;
    }

    @Override
    public String toString() {
        return "agent stream " + id + " from " + peer;
    }
}

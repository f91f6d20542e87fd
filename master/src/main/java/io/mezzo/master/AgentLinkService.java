package io.mezzo.master;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.master.auth.Acls;
import io.mezzo.master.auth.Action;
import io.mezzo.master.auth.AuthContext;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent-facing gRPC edge: turns each agent stream and message into an event on the master's
 * loop ({@link MasterCore#onAgentMessage}) and returns. Owner: {@link Master}. Runs on gRPC
 * threads; holds no state of its own beyond the stream.
 */
final class AgentLinkService extends AgentLinkGrpc.AgentLinkImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(AgentLinkService.class);

    private final EventLoop loop;
    private final MasterCore core;
    private final Leadership leadership;
    private final int capacity;
    private final Acls acls;
    private final AtomicLong streams = new AtomicLong();

    AgentLinkService(EventLoop loop, MasterCore core, Leadership leadership, int capacity) {
        this(loop, core, leadership, capacity, Acls.PERMISSIVE);
    }

    AgentLinkService(EventLoop loop, MasterCore core, Leadership leadership, int capacity, Acls acls) {
        this.loop = loop;
        this.core = core;
        this.leadership = leadership;
        this.capacity = capacity;
        this.acls = acls;
    }

    /** The {@code register_agents} ACL on REGISTER and REREGISTER: null when allowed, else why not. */
    private String registrationDenied(AgentConnection conn, AgentMessage message) {
        String hostname = switch (message.getType()) {
            case REGISTER -> message.getRegister().getAgentInfo().getHostname();
            case REREGISTER -> message.getReregister().getAgentInfo().getHostname();
            default -> null;
        };
        return hostname == null ? null : acls.deny(Action.REGISTER_AGENTS, conn.principal, hostname);
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<MasterMessage> responseObserver) {
        if (!leadership.leading()) {
            responseObserver.onError(leadership.notLeader());
            return new StreamObserver<>() {
                @Override
                public void onNext(AgentMessage value) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            };
        }
        ServerCallStreamObserver<MasterMessage> observer = (ServerCallStreamObserver<MasterMessage>) responseObserver;
        AgentConnection[] holder = new AgentConnection[1];
        OutboundStream<MasterMessage> out = OutboundStream.attach(observer, capacity,
                reason -> loop.append(() -> core.onAgentDropped(holder[0], reason)));
        AgentConnection conn = new AgentConnection(streams.incrementAndGet(), PeerInterceptor.peer(), out,
                AuthContext.principal());
        holder[0] = conn;
        // Inbound flow control: at most INBOUND_WINDOW messages of this stream wait for the loop.
        observer.disableAutoRequest();
        observer.request(MasterConfig.INBOUND_WINDOW);
        observer.setOnCancelHandler(() -> loop.append(() -> {
            conn.out.markClosed();
            core.onAgentClosed(conn, "stream cancelled");
        }));
        return new StreamObserver<>() {
            @Override
            public void onNext(AgentMessage message) {
                String denied = registrationDenied(conn, message);
                if (denied != null) {
                    LOG.warn("Refused {} on {}: permission denied: {}", message.getType(), conn, denied);
                    loop.append(() -> conn.out.fail(Status.PERMISSION_DENIED.withDescription(denied)));
                    return;
                }
                loop.append(() -> {
                    observer.request(1);
                    core.onAgentMessage(conn, message);
                });
            }

            @Override
            public void onError(Throwable t) {
                loop.append(() -> {
                    conn.out.markClosed();
                    core.onAgentClosed(conn, "stream failed: " + Status.fromThrowable(t).getCode());
                });
            }

            @Override
            public void onCompleted() {
                loop.append(() -> {
                    core.onAgentClosed(conn, "agent closed the stream");
                    conn.out.complete();
                });
            }
        };
    }
}

package io.mezzo.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusUpdate;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in master for agent tests: a real gRPC server on 127.0.0.1 (ephemeral port) implementing
 * {@code AgentLink}. It records every stream the agent opens and every message received on it, and lets
 * the test send master messages and close streams.
 *
 * <p>Thread-safe: gRPC threads record, the test thread reads and sends.
 */
final class ScriptedMaster implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(10);

    private final Server server;
    private final BlockingQueue<Connection> connections = new LinkedBlockingQueue<>();

    ScriptedMaster() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .addService(new AgentLinkGrpc.AgentLinkImplBase() {
                    @Override
                    public StreamObserver<AgentMessage> connect(StreamObserver<MasterMessage> responses) {
                        Connection connection = new Connection(responses);
                        connections.add(connection);
                        return connection.inbound;
                    }
                })
                .build()
                .start();
    }

    int port() {
        return server.getPort();
    }

    /** The next stream the agent opens. */
    Connection nextConnection() throws InterruptedException {
        Connection c = connections.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(c).as("a new agent stream within %s", WAIT).isNotNull();
        return c;
    }

    /** True if the agent opened another stream not yet taken by {@link #nextConnection()}. */
    boolean hasNewConnection() {
        return !connections.isEmpty();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One agent stream. */
    static final class Connection {
        private final StreamObserver<MasterMessage> outbound;
        private final BlockingQueue<AgentMessage> received = new LinkedBlockingQueue<>();
        private volatile boolean ended;
        final StreamObserver<AgentMessage> inbound = new StreamObserver<>() {
            @Override
            public void onNext(AgentMessage message) {
                received.add(message);
            }

            @Override
            public void onError(Throwable t) {
                ended = true;
            }

            @Override
            public void onCompleted() {
                ended = true;
            }
        };

        Connection(StreamObserver<MasterMessage> outbound) {
            this.outbound = outbound;
        }

        synchronized void send(MasterMessage message) {
            outbound.onNext(message);
        }

        /** Ends the stream from the master's side. */
        synchronized void complete() {
            outbound.onCompleted();
        }

        /** Fails the stream from the master's side. */
        synchronized void fail() {
            outbound.onError(Status.UNAVAILABLE.withDescription("scripted failure").asRuntimeException());
        }

        /** True once the agent closed or cancelled the stream. */
        boolean ended() {
            return ended;
        }

        /** The next message of any type. */
        AgentMessage next() throws InterruptedException {
            AgentMessage m = received.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(m).as("an agent message within %s", WAIT).isNotNull();
            return m;
        }

        /** The next message, which must be of {@code type}. */
        AgentMessage next(AgentMessage.Type type) throws InterruptedException {
            AgentMessage m = next();
            assertThat(m.getType()).as("type of %s", m).isEqualTo(type);
            return m;
        }

        /** The next message, which must be a status update. */
        StatusUpdate nextUpdate() throws InterruptedException {
            return next(AgentMessage.Type.STATUS_UPDATE).getStatusUpdate();
        }

        /** Messages received and not yet taken. */
        int unread() {
            return received.size();
        }
    }
}

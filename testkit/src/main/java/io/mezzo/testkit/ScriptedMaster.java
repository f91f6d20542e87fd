package io.mezzo.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.SchedulerGrpc;
import io.mezzo.proto.v1.StatusUpdate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A master that only does what the test tells it, for testing the agent and the scheduler library
 * against the wire protocol: a real gRPC server on 127.0.0.1 (port 0) with the {@code Scheduler}
 * and {@code AgentLink} services. It records every stream and every message received and lets the
 * test send messages and end streams. It answers nothing on its own, except that it closes its side
 * of a stream the peer half-closed (as the real master does), and, once told to {@link
 * #redirectTo redirect}, refuses every new stream's first message with UNAVAILABLE and a {@link
 * LeaderHint} naming another master.
 *
 * <p>Thread-safe: gRPC threads record, the test thread reads and sends. Every wait is bounded by
 * {@link Timeouts#WAIT} and fails the test with a message.
 */
public final class ScriptedMaster implements AutoCloseable {

    private final Server server;
    private final long epoch;
    private final BlockingQueue<SchedulerStream> schedulerStreams = new LinkedBlockingQueue<>();
    private final BlockingQueue<AgentStream> agentStreams = new LinkedBlockingQueue<>();
    private final AtomicInteger redirected = new AtomicInteger();
    private volatile String redirectTo;

    private ScriptedMaster(long epoch) {
        this.epoch = epoch;
        try {
            this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
                            InsecureServerCredentials.create())
                    .addService(new SchedulerService())
                    .addService(new AgentLinkService())
                    .build()
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a master that reports leadership epoch 1. */
    public static ScriptedMaster start() {
        return new ScriptedMaster(1);
    }

    /** Starts a master that reports leadership epoch {@code epoch} in its {@link #info()}. */
    public static ScriptedMaster start(long epoch) {
        return new ScriptedMaster(epoch);
    }

    public int port() {
        return server.getPort();
    }

    /** "127.0.0.1:port". */
    public String address() {
        return "127.0.0.1:" + server.getPort();
    }

    /** This master's info, with its epoch (for SUBSCRIBED and REGISTERED). */
    public MasterInfo info() {
        return info(epoch);
    }

    /** This master's info with another epoch. */
    public MasterInfo info(long withEpoch) {
        return MasterInfo.newBuilder()
                .setId("master-" + server.getPort())
                .setHostname("127.0.0.1")
                .setIp("127.0.0.1")
                .setPort(server.getPort())
                .setEpoch(withEpoch)
                .build();
    }

    /** From now on, refuse every new stream as a master that does not lead, naming {@code leader}. */
    public void redirectTo(String leader) {
        this.redirectTo = leader;
    }

    /** Streams refused with a redirect so far. */
    public int redirected() {
        return redirected.get();
    }

    /** The next scheduler stream opened (redirected ones are not counted); fails after the bound. */
    public SchedulerStream nextSchedulerStream() throws InterruptedException {
        SchedulerStream s = schedulerStreams.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(s).as("a scheduler stream opened on master %s within %s", address(), Timeouts.WAIT).isNotNull();
        return s;
    }

    /** A scheduler stream opened within {@code wait}, or null. */
    public SchedulerStream pollSchedulerStream(Duration wait) throws InterruptedException {
        return schedulerStreams.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next agent stream opened; fails after the bound. */
    public AgentStream nextAgentStream() throws InterruptedException {
        AgentStream s = agentStreams.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(s).as("an agent stream opened on master %s within %s", address(), Timeouts.WAIT).isNotNull();
        return s;
    }

    /** True if an agent opened a stream not yet taken by {@link #nextAgentStream()}. */
    public boolean hasNewAgentStream() {
        return !agentStreams.isEmpty();
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

    /** The master's side of one stream: what the peer sent, and how to answer or end it. */
    private abstract static class Peer<I, O> {
        private final ServerCallStreamObserver<O> out;
        final BlockingQueue<I> received = new LinkedBlockingQueue<>();
        /** Completed with how the peer ended the stream: "half-closed" or "cancelled". */
        final CompletableFuture<String> peerEnded = new CompletableFuture<>();

        Peer(ServerCallStreamObserver<O> out) {
            this.out = out;
            out.setOnCancelHandler(() -> peerEnded.complete("cancelled"));
        }

        /** Sends one message to the peer. */
        public synchronized void send(O message) {
            out.onNext(message);
        }

        /** Ends the stream from the master's side. */
        public synchronized void complete() {
            try {
                out.onCompleted();
            } catch (IllegalStateException e) {
                // Already closed by the peer.
            }
        }

        /** Fails the stream from the master's side. */
        public synchronized void fail(Status status, Metadata trailers) {
            try {
                out.onError(status.asRuntimeException(trailers));
            } catch (IllegalStateException e) {
                // Already closed by the peer.
            }
        }

        /** Fails the stream with UNAVAILABLE. */
        public void fail() {
            fail(Status.UNAVAILABLE.withDescription("scripted failure"), new Metadata());
        }

        /**
         * Fails the stream as a master that just stopped leading does: UNAVAILABLE with a {@link
         * LeaderHint} naming {@code leader} ({@code host:port}).
         */
        public void failNotLeader(String leader) {
            fail(Status.UNAVAILABLE.withDescription("this master is not the leader; the leader is " + leader),
                    LeaderHint.trailers(leader));
        }

        /** True once the peer closed or cancelled the stream. */
        public boolean ended() {
            return peerEnded.isDone();
        }

        /** How the peer ended the stream, waiting at most the bound. */
        public String awaitPeerEnded() throws Exception {
            return peerEnded.get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** The next message the peer sent; fails after the bound. */
        public I next() throws InterruptedException {
            I m = received.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(m).as("a message from the peer within %s", Timeouts.WAIT).isNotNull();
            return m;
        }

        /** The next message sent within {@code wait}, or null. */
        public I nextOrNull(Duration wait) throws InterruptedException {
            return received.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** Messages received and not yet taken. */
        public int unread() {
            return received.size();
        }

        StreamObserver<I> inbound(String redirect, AtomicInteger redirects) {
            return new StreamObserver<>() {
                @Override
                public void onNext(I message) {
                    if (redirect != null) {
                        redirects.incrementAndGet();
                        fail(Status.UNAVAILABLE.withDescription("this master is not the leader; the leader is "
                                + redirect), LeaderHint.trailers(redirect));
                    } else {
                        received.add(message);
                    }
                }

                @Override
                public void onError(Throwable t) {
                    peerEnded.complete("cancelled");
                }

                @Override
                public void onCompleted() {
                    peerEnded.complete("half-closed");
                    complete();
                }
            };
        }
    }

    /** One {@code Scheduler.Subscribe} stream as the master sees it. */
    public static final class SchedulerStream extends Peer<Call, Event> {
        SchedulerStream(ServerCallStreamObserver<Event> out) {
            super(out);
        }

        /** The next call the client sent; fails after the bound. */
        public Call nextCall() throws InterruptedException {
            return next();
        }

        /** The next call sent within {@code wait}, or null. */
        public Call nextCallOrNull(Duration wait) throws InterruptedException {
            return nextOrNull(wait);
        }
    }

    /** One {@code AgentLink.Connect} stream as the master sees it. */
    public static final class AgentStream extends Peer<AgentMessage, MasterMessage> {
        AgentStream(ServerCallStreamObserver<MasterMessage> out) {
            super(out);
        }

        /** The next message, which must be of {@code type}. */
        public AgentMessage next(AgentMessage.Type type) throws InterruptedException {
            AgentMessage m = next();
            assertThat(m.getType()).as("type of %s", m).isEqualTo(type);
            return m;
        }

        /** The next message, which must be a status update. */
        public StatusUpdate nextUpdate() throws InterruptedException {
            return next(AgentMessage.Type.STATUS_UPDATE).getStatusUpdate();
        }
    }

    private final class SchedulerService extends SchedulerGrpc.SchedulerImplBase {
        @Override
        public StreamObserver<Call> subscribe(StreamObserver<Event> responses) {
            SchedulerStream stream = new SchedulerStream((ServerCallStreamObserver<Event>) responses);
            String redirect = redirectTo;
            if (redirect == null) {
                schedulerStreams.add(stream);
            }
            return stream.inbound(redirect, redirected);
        }
    }

    private final class AgentLinkService extends AgentLinkGrpc.AgentLinkImplBase {
        @Override
        public StreamObserver<AgentMessage> connect(StreamObserver<MasterMessage> responses) {
            AgentStream stream = new AgentStream((ServerCallStreamObserver<MasterMessage>) responses);
            String redirect = redirectTo;
            if (redirect == null) {
                agentStreams.add(stream);
            }
            return stream.inbound(redirect, redirected);
        }
    }
}

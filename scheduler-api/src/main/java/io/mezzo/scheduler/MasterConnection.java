package io.mezzo.scheduler;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.mezzo.common.grpc.LeaderHint;
import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.security.TlsContext;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.SchedulerGrpc;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * One attempt at a Subscribe stream to one master: its own channel, the call, and the bounded
 * outbound queue of calls. A new one is opened for every (re)connection, so that nothing of a
 * failed attempt (channel backoff, half-dead transport) carries over.
 *
 * <p>Owned by the client's loop thread, which opens, uses and ends it. Its observer methods run on
 * gRPC transport threads (the channel uses a direct executor) and only hand what arrived to the
 * {@link Listener}, which enqueues it on the loop.
 *
 * <p>Inbound flow control: the stream asks for {@link #INBOUND_WINDOW} events up front and for one
 * more each time the loop has handled one ({@link #requestNext}), so a slow scheduler slows the
 * master down instead of growing the loop's queue.
 */
final class MasterConnection {

    /** Events the master may send ahead of the loop. */
    static final int INBOUND_WINDOW = 16;

    /** Calls that may wait for the master before the stream is dropped as stuck. */
    static final int OUTBOUND_CAPACITY = 1024;

    /** Receives what happens on the stream. Called on gRPC threads: it must only enqueue. */
    interface Listener {
        /** The master sent an event. */
        void onEvent(MasterConnection connection, Event event);

        /**
         * The stream ended: closed or failed by the master, cancelled, or dropped for being stuck.
         *
         * @param leaderHint the "mezzo-leader" trailer of an UNAVAILABLE failure, or null
         */
        void onEnded(MasterConnection connection, String reason, String leaderHint);
    }

    private final long serial;
    private final MasterInfo master;
    private final String address;
    private final ManagedChannel channel;
    // Set in beforeStart, which runs inside open() on the loop thread.
    private ClientCallStreamObserver<Call> requests;
    private OutboundStream<Call> outbound;

    private MasterConnection(long serial, MasterInfo master, ManagedChannel channel) {
        this.serial = serial;
        this.master = master;
        this.address = address(master);
        this.channel = channel;
    }

    /**
     * The I/O thread of one client's channels, made on first use and stopped by {@link #close}.
     * gRPC's shared event loops outlive the last channel by a second, blocked in epoll; a JVM that
     * exits meanwhile waits 300 ms for them (HotSpot's wait for threads in native code), which was
     * a third of a {@code mezzo run}. Loop thread only, except {@link #close}.
     */
    static final class Io implements AutoCloseable {

        private volatile EventLoopGroup group;

        EventLoopGroup group() {
            if (group == null) {
                ThreadFactory daemon = r -> {
                    Thread t = new Thread(r, "scheduler-client-io");
                    t.setDaemon(true);
                    return t;
                };
                group = new NioEventLoopGroup(1, daemon);
            }
            return group;
        }

        /**
         * Stops the thread, waiting up to {@code waitMillis} for it. Only once the channels are
         * terminated: a stopping event loop closes its channels at once, dropping what they still
         * had to write (a half-close, a last call).
         */
        void closeNow(long waitMillis) {
            EventLoopGroup g = group;
            if (g != null) {
                g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(waitMillis);
            }
        }

        /** As {@link #closeNow} without waiting for the thread. */
        @Override
        public void close() {
            EventLoopGroup g = group;
            if (g != null) {
                g.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Opens a channel and a Subscribe stream to {@code master}. Nothing is sent yet. */
    static MasterConnection open(long serial, MasterInfo master, Listener listener) {
        return open(serial, master, listener, null, null, null);
    }

    /**
     * Opens a channel and a Subscribe stream to {@code master}, over TLS when {@code tls} is given
     * and with {@code credentials} on the call when given. Nothing is sent yet.
     */
    static MasterConnection open(long serial, MasterInfo master, Listener listener, TlsContext tls,
            CallCredentials credentials, Io io) {
        ChannelCredentials transport = tls == null ? InsecureChannelCredentials.create() : tls.channelCredentials();
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host(master), master.getPort(), transport);
        if (io != null) {
            builder.eventLoopGroup(io.group()).channelType(NioSocketChannel.class);
        }
        ManagedChannel channel = builder
                .directExecutor()
                .userAgent("mezzo-scheduler-api")
                .build();
        MasterConnection connection = new MasterConnection(serial, master, channel);
        SchedulerGrpc.SchedulerStub stub = SchedulerGrpc.newStub(channel);
        if (credentials != null) {
            stub = stub.withCallCredentials(credentials);
        }
        stub.subscribe(connection.new Observer(listener));
        return connection;
    }

    /** The host to dial: the master's IP when it published one, else its hostname. */
    static String host(MasterInfo master) {
        return master.getIp().isEmpty() ? master.getHostname() : master.getIp();
    }

    /** "host:port" of a master, as logged and as compared with leader hints. */
    static String address(MasterInfo master) {
        String host = host(master);
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + master.getPort();
    }

    long serial() {
        return serial;
    }

    MasterInfo master() {
        return master;
    }

    String address() {
        return address;
    }

    ManagedChannel channel() {
        return channel;
    }

    /** Queues a call; false when the stream is closed or was just dropped for being stuck. */
    boolean send(Call call) {
        return outbound.send(call);
    }

    /** Lets the master send one more event. Any thread. */
    void requestNext() {
        try {
            requests.request(1);
        } catch (RuntimeException e) {
            // The call is already over: there is nothing more to receive.
        }
    }

    /** Ends the stream at once (cancelling the call) and shuts the channel down. */
    void abort(String reason) {
        outbound.fail(Status.CANCELLED.withDescription(reason));
        channel.shutdownNow();
    }

    /** The master ended the stream: stop sending and shut the channel down. */
    void ended() {
        outbound.markClosed();
        channel.shutdownNow();
    }

    /**
     * Sends the calls already queued, then half-closes the stream; the channel shuts down once the
     * master has closed its side.
     */
    void finish() {
        outbound.complete();
        channel.shutdown();
    }

    @Override
    public String toString() {
        return "MasterConnection[" + serial + " " + address + "]";
    }

    /** The gRPC edge: translates and hands over, nothing else. */
    private final class Observer implements ClientResponseObserver<Call, Event> {

        private final Listener listener;

        Observer(Listener listener) {
            this.listener = listener;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<Call> requestStream) {
            requests = requestStream;
            requestStream.disableAutoRequestWithInitial(INBOUND_WINDOW);
            outbound = OutboundStream.attach(
                    requestStream,
                    OUTBOUND_CAPACITY,
                    why -> listener.onEnded(MasterConnection.this, "dropped: " + why, null));
        }

        @Override
        public void onNext(Event event) {
            listener.onEvent(MasterConnection.this, event);
        }

        @Override
        public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            Metadata trailers = Status.trailersFromThrowable(t);
            if (status.getCode() == Status.Code.UNAUTHENTICATED) {
                // No retry fixes missing or wrong credentials: told to the scheduler as a refused SUBSCRIBE.
                listener.onEvent(MasterConnection.this, Event.newBuilder()
                        .setType(Event.Type.ERROR)
                        .setError(Event.Error.newBuilder()
                                .setCode(Event.Error.Code.INVALID_CALL)
                                .setCallType(io.mezzo.proto.v1.Call.Type.SUBSCRIBE)
                                .setMessage("UNAUTHENTICATED: " + status.getDescription()))
                        .build());
            }
            String hint = status.getCode() == Status.Code.UNAVAILABLE ? LeaderHint.read(trailers) : null;
            String reason = status.getCode()
                    + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")");
            listener.onEnded(MasterConnection.this, reason, hint);
        }

        @Override
        public void onCompleted() {
            listener.onEnded(MasterConnection.this, "master closed the stream", null);
        }
    }
}

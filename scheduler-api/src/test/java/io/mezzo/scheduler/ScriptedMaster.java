package io.mezzo.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.SchedulerGrpc;
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
 * A master that only does what the test tells it: a real gRPC server on 127.0.0.1 (port 0) with
 * the Scheduler service, recording every stream and call and letting the test send events. It
 * answers nothing on its own, except that it closes its side when the client half-closes (as the
 * real master does), and, when told to redirect, fails every stream's first call with UNAVAILABLE
 * and a "mezzo-leader" trailer.
 */
final class ScriptedMaster implements AutoCloseable {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final Server server;
    private final BlockingQueue<Stream> streams = new LinkedBlockingQueue<>();
    private final AtomicInteger redirected = new AtomicInteger();
    private final long epoch;
    private volatile String redirectTo;

    private ScriptedMaster(long epoch) {
        this.epoch = epoch;
        try {
            this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(new Service())
                    .build()
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a master that reports leadership epoch {@code epoch} in its MasterInfo. */
    static ScriptedMaster start(long epoch) {
        return new ScriptedMaster(epoch);
    }

    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    /** The MasterInfo this master sends in SUBSCRIBED. */
    MasterInfo info() {
        return info(epoch);
    }

    MasterInfo info(long withEpoch) {
        return MasterInfo.newBuilder()
                .setId("master-" + server.getPort())
                .setHostname("127.0.0.1")
                .setIp("127.0.0.1")
                .setPort(server.getPort())
                .setEpoch(withEpoch)
                .build();
    }

    /** From now on, refuse every stream as a non-leader naming {@code leader}. */
    void redirectTo(String leader) {
        this.redirectTo = leader;
    }

    /** Streams refused with a redirect so far. */
    int redirected() {
        return redirected.get();
    }

    /** The next stream a client opened (not counting redirected ones); fails after 10 s. */
    Stream nextStream() throws InterruptedException {
        Stream s = streams.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(s).as("a stream opened on master %s", address()).isNotNull();
        return s;
    }

    /** A stream opened within {@code wait}, or null. */
    Stream pollStream(Duration wait) throws InterruptedException {
        return streams.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
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

    /** One Subscribe stream as the master sees it. */
    static final class Stream {
        private final ServerCallStreamObserver<Event> out;
        private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
        /** Completed with how the client ended the stream: "half-closed" or "cancelled". */
        final CompletableFuture<String> clientEnded = new CompletableFuture<>();

        Stream(ServerCallStreamObserver<Event> out) {
            this.out = out;
        }

        /** The next call the client sent; fails after 10 s. */
        Call nextCall() throws InterruptedException {
            Call c = calls.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(c).as("a call from the client").isNotNull();
            return c;
        }

        /** The next call sent within {@code wait}, or null. */
        Call nextCallOrNull(Duration wait) throws InterruptedException {
            return calls.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** How the client ended the stream, waiting at most 10 s. */
        String awaitClientEnded() throws Exception {
            return clientEnded.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }

        synchronized void send(Event event) {
            out.onNext(event);
        }

        synchronized void complete() {
            try {
                out.onCompleted();
            } catch (IllegalStateException e) {
                // Already closed by the client.
            }
        }

        synchronized void fail(Status status, Metadata trailers) {
            try {
                out.onError(status.asRuntimeException(trailers));
            } catch (IllegalStateException e) {
                // Already closed by the client.
            }
        }
    }

    private final class Service extends SchedulerGrpc.SchedulerImplBase {
        @Override
        public StreamObserver<Call> subscribe(StreamObserver<Event> responseObserver) {
            ServerCallStreamObserver<Event> out = (ServerCallStreamObserver<Event>) responseObserver;
            Stream stream = new Stream(out);
            out.setOnCancelHandler(() -> stream.clientEnded.complete("cancelled"));
            String leader = redirectTo;
            if (leader == null) {
                streams.add(stream);
            }
            return new StreamObserver<>() {
                @Override
                public void onNext(Call call) {
                    if (leader != null) {
                        Metadata trailers = new Metadata();
                        trailers.put(MasterConnection.LEADER_KEY, leader);
                        redirected.incrementAndGet();
                        stream.fail(Status.UNAVAILABLE.withDescription("not the leader"), trailers);
                    } else {
                        stream.calls.add(call);
                    }
                }

                @Override
                public void onError(Throwable t) {
                    stream.clientEnded.complete("cancelled");
                }

                @Override
                public void onCompleted() {
                    stream.clientEnded.complete("half-closed");
                    stream.complete();
                }
            };
        }
    }
}

package io.mezzo.master;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.grpc.OutboundStream;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.master.auth.AuthContext;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.SchedulerGrpc;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The scheduler-facing gRPC edge: turns each stream and each call into an event on the master's
 * loop ({@link MasterCore#onSchedulerCall}) and returns. Owner: {@link Master}. Runs on gRPC
 * threads; holds no state of its own beyond the stream.
 */
final class SchedulerService extends SchedulerGrpc.SchedulerImplBase {

    private final EventLoop loop;
    private final MasterCore core;
    private final Leadership leadership;
    private final MasterFaults faults;
    private final int capacity;
    private final AtomicLong streams = new AtomicLong();

    SchedulerService(EventLoop loop, MasterCore core, Leadership leadership, MasterFaults faults, int capacity) {
        this.loop = loop;
        this.core = core;
        this.leadership = leadership;
        this.faults = faults;
        this.capacity = capacity;
    }

    @Override
    public StreamObserver<Call> subscribe(StreamObserver<Event> responseObserver) {
        if (!leadership.leading()) {
            responseObserver.onError(leadership.notLeader());
            return new StreamObserver<>() {
                @Override
                public void onNext(Call value) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            };
        }
        ServerCallStreamObserver<Event> observer = (ServerCallStreamObserver<Event>) responseObserver;
        SchedulerConnection[] holder = new SchedulerConnection[1];
        OutboundStream<Event> out = OutboundStream.attach(observer, capacity,
                reason -> loop.append(() -> core.onSchedulerDropped(holder[0], reason)));
        SchedulerConnection conn = new SchedulerConnection(streams.incrementAndGet(), PeerInterceptor.peer(), out,
                AuthContext.principal());
        holder[0] = conn;
        // Inbound flow control: at most INBOUND_WINDOW messages of this stream wait for the loop.
        observer.disableAutoRequest();
        observer.request(MasterConfig.INBOUND_WINDOW);
        observer.setOnCancelHandler(() -> loop.append(() -> {
            conn.out.markClosed();
            core.onSchedulerClosed(conn, "stream cancelled");
        }));
        return new StreamObserver<>() {
            @Override
            public void onNext(Call call) {
                String limited = core.rateLimiter().acquire(conn.peer, conn.principal);
                if (limited != null) {
                    loop.append(() -> {
                        observer.request(1);
                        core.onSchedulerRateLimited(conn, limited);
                    });
                    return;
                }
                loop.append(() -> {
                    observer.request(1);
                    // A crash armed for tests (MasterFaults.crashOnNext) drops the call before dispatch.
                    if (!faults.tripsOn(call)) {
                        core.onSchedulerCall(conn, call);
                    }
                });
            }

            @Override
            public void onError(Throwable t) {
                loop.append(() -> {
                    conn.out.markClosed();
                    core.onSchedulerClosed(conn, "stream failed: " + Status.fromThrowable(t).getCode());
                });
            }

            @Override
            public void onCompleted() {
                loop.append(() -> {
                    core.onSchedulerClosed(conn, "scheduler closed the stream");
                    conn.out.complete();
                });
            }
        };
    }
}

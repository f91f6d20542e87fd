package io.mezzo.common.grpc;

import io.grpc.Status;
import io.grpc.stub.CallStreamObserver;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The sending half of a gRPC stream with back-pressure: messages queue here (bounded) and are
 * written only while the transport is ready. A peer that stays slow until the queue is full is
 * dropped: the stream fails with RESOURCE_EXHAUSTED and the owner is told why, so one stuck
 * subscriber never grows the daemon's memory without bound.
 *
 * <p>Thread-safe: the owner's event loop sends, gRPC threads signal readiness.
 */
public final class OutboundStream<T> {

    private final CallStreamObserver<T> observer;
    private final int capacity;
    private final Consumer<String> onDropped;
    private final ArrayDeque<T> queue = new ArrayDeque<>();
    private boolean completing;
    private boolean closed;

    private OutboundStream(CallStreamObserver<T> observer, int capacity, Consumer<String> onDropped) {
        this.observer = observer;
        this.capacity = capacity;
        this.onDropped = onDropped;
    }

    /**
     * Wraps {@code observer}. On the server side call this before the service method returns; on
     * the client side from {@code ClientResponseObserver.beforeStart}.
     *
     * @param capacity messages that may wait for the peer before it is dropped
     * @param onDropped told (once, with the reason) when the peer is dropped for being slow
     */
    public static <T> OutboundStream<T> attach(CallStreamObserver<T> observer, int capacity, Consumer<String> onDropped) {
        OutboundStream<T> stream = new OutboundStream<>(observer, capacity, onDropped);
        observer.setOnReadyHandler(stream::drain);
        return stream;
    }

    /**
     * Queues a message. Returns false if the stream is closed or the message would overflow the
     * queue (in which case the stream is failed and the owner told).
     */
    public boolean send(T message) {
        String dropped = null;
        synchronized (this) {
            if (closed || completing) {
                return false;
            }
            if (queue.size() >= capacity) {
                closed = true;
                queue.clear();
                dropped = "peer did not read " + capacity + " queued messages";
                failQuietly(Status.RESOURCE_EXHAUSTED.withDescription("too slow: " + dropped));
            } else {
                queue.add(message);
                drainLocked();
            }
        }
        if (dropped != null) {
            onDropped.accept(dropped);
            return false;
        }
        return true;
    }

    /** Sends what is queued, then completes the stream. */
    public synchronized void complete() {
        if (closed || completing) {
            return;
        }
        completing = true;
        drainLocked();
    }

    /** Fails the stream at once with {@code status}, dropping what is queued. */
    public synchronized void fail(Status status) {
        if (closed) {
            return;
        }
        closed = true;
        queue.clear();
        failQuietly(status);
    }

    /** Marks the stream closed because the peer went away; later sends are ignored. */
    public synchronized void markClosed() {
        closed = true;
        queue.clear();
    }

    /** True once closed, failed or completed. */
    public synchronized boolean isClosed() {
        return closed;
    }

    /** Messages waiting for the peer. */
    public synchronized int queued() {
        return queue.size();
    }

    private synchronized void drain() {
        drainLocked();
    }

    private void drainLocked() {
        if (closed) {
            return;
        }
        try {
            while (!queue.isEmpty() && observer.isReady()) {
                observer.onNext(queue.poll());
            }
            if (completing && queue.isEmpty()) {
                closed = true;
                observer.onCompleted();
            }
        } catch (RuntimeException e) {
            // The call was cancelled under us: the peer is gone.
            closed = true;
            queue.clear();
        }
    }

    private void failQuietly(Status status) {
        try {
            observer.onError(status.asRuntimeException());
        } catch (RuntimeException ignored) {
            // Already cancelled: nothing more to tell the peer.
        }
    }
}

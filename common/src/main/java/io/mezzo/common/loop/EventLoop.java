package io.mezzo.common.loop;

import io.mezzo.common.clock.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A single-threaded event queue: the one writer of a daemon's state.
 *
 * <p>Any thread may {@link #append} an event or {@link #schedule} a deferred one; only the loop
 * thread runs them, one at a time, in order. Deferred events are tagged: scheduling a tag again
 * replaces the pending event, so a timer is a tag, not a thread. Deadlines are read from the
 * injected {@link Clock}; with a {@code ManualClock} the loop wakes whenever the clock is advanced,
 * so tests drive timeouts without sleeping and then wait on {@link #barrier()}.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Events run in append order; a deferred event runs no earlier than its deadline.
 *   <li>At most one deferred event per tag is pending.
 *   <li>An event that throws is reported to the {@link FaultHandler}; the loop goes on.
 *   <li>The logging MDC is cleared after every event, so ids set for one event never leak into the
 *       next line.
 *   <li>Idle events ({@link #whenIdle}) run once nothing else is queued, at most once per tag however
 *       often they were asked for: a burst of triggers makes one run.
 * </ol>
 *
 * <p>Modelled on Kafka's {@code KafkaEventQueue}.
 */
public final class EventLoop implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
    private static final Runnable WAKEUP = () -> {};
    private static final Runnable STOP = () -> {};

    private final String name;
    private final Clock clock;
    private final FaultHandler faultHandler;
    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Runnable wakeup = () -> queue.offer(WAKEUP);
    private final Thread thread;
    private volatile boolean closed;
    /** Told the timing of every event (metrics); set once before events run, or null. */
    private volatile Observer observer;

    // Loop-thread only.
    private final Map<String, Deferred> deferredByTag = new HashMap<>();
    private final PriorityQueue<Deferred> deadlines = new PriorityQueue<>();
    private final Map<String, Runnable> idle = new java.util.LinkedHashMap<>();
    private long sequence;

    /** Creates and starts a loop whose thread is called {@code name}. */
    public EventLoop(String name, Clock clock, FaultHandler faultHandler) {
        this.name = name;
        this.clock = clock;
        this.faultHandler = faultHandler;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        clock.onAdvance(wakeup);
        this.thread.start();
    }

    /** The loop's clock. */
    public Clock clock() {
        return clock;
    }

    /** Appends an event to run on the loop thread after every event appended before it. */
    public void append(Runnable event) {
        if (closed) {
            LOG.debug("Dropped event appended to closed loop {}", name);
            return;
        }
        queue.offer(observer == null ? event : new Timed(event, System.nanoTime()));
    }

    /**
     * What a daemon's metrics learn of its loop: told on the loop thread after every event, with
     * how long it waited in the queue (appended events; 0 for timers and idle events) and how long
     * it ran. Measured with {@link System#nanoTime()}: these are measurements, not decisions, so
     * they do not read the injected clock.
     */
    public interface Observer {
        /** Called on the loop thread after each event; must be cheap and must not throw. */
        void ran(long waitedNanos, long ranNanos);
    }

    /** Sets the observer of every event from now on (metrics); null to stop observing. */
    public void observe(Observer observer) {
        this.observer = observer;
    }

    /**
     * Runs {@code event} on the loop thread once {@code delay} has passed on the loop's clock,
     * replacing any pending event with the same tag.
     */
    public void schedule(String tag, Duration delay, Runnable event) {
        // The deadline counts from the call, not from when the loop gets to it.
        long deadline = clock.millis() + Math.max(0, delay.toMillis());
        if (inLoopThread()) {
            addDeferred(tag, deadline, event);
        } else {
            append(() -> addDeferred(tag, deadline, event));
        }
    }

    /**
     * Runs {@code event} once no other event is waiting, unless an idle event with the same tag is
     * already pending: triggers that pile up during a burst (a thousand agents re-registering)
     * coalesce into one run after it. {@link #barrier()} runs pending idle events too.
     */
    public void whenIdle(String tag, Runnable event) {
        if (inLoopThread()) {
            idle.putIfAbsent(tag, event);
        } else {
            append(() -> idle.putIfAbsent(tag, event));
        }
    }

    /** Cancels the pending deferred event with this tag, if any. */
    public void cancel(String tag) {
        if (inLoopThread()) {
            Deferred old = deferredByTag.remove(tag);
            if (old != null) {
                old.cancelled = true;
            }
            idle.remove(tag);
        } else {
            append(() -> cancel(tag));
        }
    }

    /** Whether a deferred or idle event with this tag is pending. Loop thread only. */
    public boolean isScheduled(String tag) {
        return deferredByTag.containsKey(tag) || idle.containsKey(tag);
    }

    /**
     * A future completed once every event appended before this call has run, and every deferred
     * event already due on the clock has fired.
     */
    public CompletableFuture<Void> barrier() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        append(
                () -> {
                    fireDue(clock.millis());
                    runIdle();
                    done.complete(null);
                });
        if (closed) {
            done.completeExceptionally(new IllegalStateException("event loop " + name + " is closed"));
        }
        return done;
    }

    /** Runs {@code read} on the loop thread and completes the future with its result. */
    public <T> CompletableFuture<T> call(Supplier<T> read) {
        CompletableFuture<T> result = new CompletableFuture<>();
        append(
                () -> {
                    try {
                        result.complete(read.get());
                    } catch (RuntimeException e) {
                        result.completeExceptionally(e);
                        throw e;
                    }
                });
        if (closed) {
            result.completeExceptionally(new IllegalStateException("event loop " + name + " is closed"));
        }
        return result;
    }

    /** True when called from the loop thread. */
    public boolean inLoopThread() {
        return Thread.currentThread() == thread;
    }

    /** Events waiting to run (for metrics). */
    public int queueSize() {
        return queue.size();
    }

    /** Stops the loop after the events already appended, and waits up to 10 s for its thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        clock.removeOnAdvance(wakeup);
        queue.offer(STOP);
        if (!inLoopThread()) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warn("Event loop {} did not stop within 10 s", name);
            }
        }
    }

    private void addDeferred(String tag, long deadline, Runnable event) {
        Deferred old = deferredByTag.remove(tag);
        if (old != null) {
            old.cancelled = true;
        }
        Deferred deferred = new Deferred(tag, deadline, sequence++, event);
        deferredByTag.put(tag, deferred);
        deadlines.add(deferred);
    }

    private void run() {
        LOG.debug("Event loop {} started", name);
        try {
            while (true) {
                long now = clock.millis();
                fireDue(now);
                Deferred next = nextDeferred();
                Runnable event = queue.poll();
                if (event == null) {
                    if (!idle.isEmpty()) {
                        runIdle();
                        continue;
                    }
                    if (next == null) {
                        event = queue.take();
                    } else {
                        long wait = next.deadline - clock.millis();
                        event = wait <= 0 ? queue.poll() : queue.poll(wait, TimeUnit.MILLISECONDS);
                    }
                }
                if (event == STOP) {
                    break;
                }
                if (event != null && event != WAKEUP) {
                    runOne(event);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.debug("Event loop {} stopped", name);
    }

    private void fireDue(long now) {
        while (true) {
            Deferred next = nextDeferred();
            if (next == null || next.deadline > now) {
                return;
            }
            deadlines.poll();
            deferredByTag.remove(next.tag);
            runOne(next.event);
        }
    }

    private void runIdle() {
        while (!idle.isEmpty()) {
            var first = idle.entrySet().iterator().next();
            idle.remove(first.getKey());
            runOne(first.getValue());
        }
    }

    private Deferred nextDeferred() {
        Deferred next = deadlines.peek();
        while (next != null && next.cancelled) {
            deadlines.poll();
            next = deadlines.peek();
        }
        return next;
    }

    private void runOne(Runnable event) {
        long waited = 0;
        if (event instanceof Timed timed) {
            event = timed.event;
            waited = System.nanoTime() - timed.appendedNanos;
        }
        Observer o = observer;
        long start = o == null ? 0 : System.nanoTime();
        try {
            event.run();
        } catch (Throwable t) {
            faultHandler.handleFault("event on loop " + name + " threw", t);
        } finally {
            MDC.clear();
        }
        if (o != null) {
            o.ran(waited, System.nanoTime() - start);
        }
    }

    /** An appended event with the time it was appended (only while observed). */
    private record Timed(Runnable event, long appendedNanos) implements Runnable {
        @Override
        public void run() {
            event.run();
        }
    }

    private static final class Deferred implements Comparable<Deferred> {
        final String tag;
        final long deadline;
        final long sequence;
        final Runnable event;
        boolean cancelled;

        Deferred(String tag, long deadline, long sequence, Runnable event) {
            this.tag = tag;
            this.deadline = deadline;
            this.sequence = sequence;
            this.event = event;
        }

        @Override
        public int compareTo(Deferred o) {
            int byDeadline = Long.compare(deadline, o.deadline);
            return byDeadline != 0 ? byDeadline : Long.compare(sequence, o.sequence);
        }
    }
}

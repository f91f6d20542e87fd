package io.mezzo.master;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.registry.RecordRejectedException;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.MasterInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This master's leadership term as the loop sees it: whether it acts now, the fenced registry the
 * election handed it, and "write, persist, apply" for every change of hard state. (The gRPC and
 * HTTP edges read {@link Leadership} instead, a volatile copy written by the election thread.)
 *
 * <pre>
 *   not leading --begin--> acting --suspend--> suspended --resume--> acting
 *        any ------------------------stop------------------------> stopped (for good)
 * </pre>
 *
 * <p>Owner: {@link MasterCore}, which moves it through its lifecycle; the managers read {@link
 * #acting()} before acting on a timer and persist through {@link #persist}. Thread: the master's
 * event loop only.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Memory changes only after its registry write succeeded: {@link #persist} runs {@code apply}
 *       on the loop once the operations are durable, and only while this master acts. A write that
 *       becomes durable while the term is suspended is applied when it resumes, before anything
 *       else of the resumed term, in the order the writes completed: the registry holds it, so
 *       memory must follow (a removal whose apply was dropped would be undone by the next write).
 *   <li>Once stopped, a term never acts again; results of writes still in flight are dropped.
 *   <li>A failed write ends the term: this master can no longer trust its leadership (fenced, or
 *       ZooKeeper failing beyond retries), so it steps down. A write refused because one of its
 *       records can never be written ({@link RecordRejectedException}: too big, a bad key) is not
 *       a failure of leadership: nothing of it was written, it is not applied, whoever asked is
 *       refused, and the term goes on. (The edges refuse such records first; this is the net.)
 * </ol>
 *
 * <p>State: all soft (a new term starts from the election and the registry): the term's {@code
 * masterInfo} (with its epoch) and {@code registry}, the {@code acting} and {@code stopped} flags,
 * when the term began ({@code electedAt}) and was last suspended ({@code suspendedAt}), and the
 * applies of writes that became durable while suspended ({@code deferred}).
 */
final class LeaderTerm {

    private static final Logger LOG = LoggerFactory.getLogger(LeaderTerm.class);

    private final EventLoop loop;
    private final Clock clock;
    private final Consumer<String> stepDown;
    private final MasterMetrics metrics;
    /** This master's info with the term's epoch; null before election. Soft. */
    private MasterInfo masterInfo;
    /** The registry of this leadership term; null before election. Soft. */
    private Registry registry;
    /** True while this master leads and its coordination session is healthy. Soft. */
    private boolean acting;
    /** True once leadership is lost for good: nothing is ever done again. Soft. */
    private boolean stopped;
    /** When this term began (clock millis). Soft. */
    private long electedAt;
    /** When the coordination session was last suspended (clock millis). Soft. */
    private long suspendedAt;
    /** Applies of writes that became durable while suspended, in completion order (invariant 1). Soft. */
    private final List<Runnable> deferred = new ArrayList<>();

    /** {@code stepDown} is called (on the loop) when this master must give up leadership for good. */
    LeaderTerm(EventLoop loop, Clock clock, Consumer<String> stepDown, MasterMetrics metrics) {
        this.metrics = metrics;
        this.loop = loop;
        this.clock = clock;
        this.stepDown = stepDown;
    }

    /** The term begins: act, and write through {@code registry}. */
    void begin(MasterInfo info, Registry registry) {
        this.masterInfo = info;
        this.registry = registry;
        this.acting = true;
        this.electedAt = clock.millis();
    }

    /** Stops acting for now; false if this master was not acting. */
    boolean suspend() {
        if (!acting) {
            return false;
        }
        acting = false;
        suspendedAt = clock.millis();
        return true;
    }

    /**
     * Acts again after a suspension; false if it was acting already or is stopped for good. The
     * caller runs {@link #applyDeferred()} next, before anything else of the resumed term.
     */
    boolean resume() {
        if (acting || stopped) {
            return false;
        }
        acting = true;
        return true;
    }

    /**
     * Applies, in the order they completed, the writes that became durable while this term was
     * suspended (invariant 1). Returns how many there were.
     */
    int applyDeferred() {
        List<Runnable> applies = List.copyOf(deferred);
        deferred.clear();
        for (Runnable apply : applies) {
            if (!acting) {
                // An apply stepped down or the term ended: the rest never apply.
                break;
            }
            apply.run();
        }
        return applies.size();
    }

    /** Ends the term for good; false if it had ended already. Deferred applies are dropped. */
    boolean stop() {
        if (stopped) {
            return false;
        }
        stopped = true;
        acting = false;
        deferred.clear();
        return true;
    }

    boolean acting() {
        return acting;
    }

    boolean stopped() {
        return stopped;
    }

    long electedAt() {
        return electedAt;
    }

    long suspendedAt() {
        return suspendedAt;
    }

    /** This master's info with the term's epoch; null before election. */
    MasterInfo masterInfo() {
        return masterInfo;
    }

    /** Gives up leadership for good (the owner closes the election and tells the operator). */
    void stepDown(String reason) {
        stepDown.accept(reason);
    }

    /** Writes {@code ops} through the term's fenced registry; completes on a registry thread. */
    CompletableFuture<Void> write(List<RegistryOp> ops) {
        MasterMetrics.Timing timing = metrics.registryWrite();
        CompletableFuture<Void> written = registry.write(ops);
        written.whenComplete((ok, error) -> timing.done(error == null ? 1 : 0));
        return written;
    }

    /**
     * Write, persist, apply: {@code apply} runs on the loop once {@code ops} are durable, and only
     * if this master still leads (if the term is suspended then, once it resumes). A failed write
     * means this master can no longer trust its leadership (fenced, or ZooKeeper failing beyond
     * retries): it steps down.
     */
    void persist(List<RegistryOp> ops, String what, Runnable apply) {
        persist(ops, what, apply, reason -> {});
    }

    /**
     * {@link #persist(List, String, Runnable)}, and {@code rejected} runs on the loop with the reason
     * when the write is refused because a record can never be written (invariant 3): nothing was
     * written, {@code apply} never runs, and this master keeps leading.
     */
    void persist(List<RegistryOp> ops, String what, Runnable apply, Consumer<String> rejected) {
        if (ops.isEmpty()) {
            apply.run();
            return;
        }
        write(ops).whenComplete((ok, error) -> loop.append(() -> {
            if (stopped) {
                LOG.debug("Dropped the result of the registry write of {}: no longer leading", what);
                return;
            }
            if (error != null) {
                Throwable cause = error instanceof CompletionException ? error.getCause() : error;
                if (cause instanceof RecordRejectedException) {
                    LOG.error("Registry refused the write of {}; not applied, still leading: {}", what, cause.getMessage());
                    rejected.accept(cause.getMessage());
                    return;
                }
                LOG.error("Registry write of {} failed: {}", what, cause.getMessage());
                stepDown.accept("registry write of " + what + " failed: " + cause.getMessage());
                return;
            }
            if (!acting) {
                LOG.debug("Registry write of {} completed while suspended; applied when the term resumes", what);
                deferred.add(apply);
                return;
            }
            apply.run();
        }));
    }
}

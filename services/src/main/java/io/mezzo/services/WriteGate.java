package io.mezzo.services;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Write, persist, apply, act (STYLE.md rule 6) for the service scheduler: runs each event as one
 * transaction over a state {@code S} that can be copied and swapped as a whole.
 *
 * <pre>
 *   run(body): copy = snapshot(S)          (a write in flight? the event waits, in order)
 *              body changes S, persist() collects ops + actions + answers
 *              no ops  -> actions run
 *              ops     -> S put back to the copy; one fenced write of every op
 *                         ok:     S swapped to the changed one; actions run; waiting events run
 *                         failed: S stays the copy; answers and waiting calls fail 503;
 *                                 storeFailed (leadership over); nothing more runs
 * </pre>
 *
 * <p>Invariants: (1) memory holds only what the store holds, except inside {@code body}; (2) no
 * action (launch, kill, answer) of an event runs before its write succeeded; (3) events run in the
 * order they came, none while a write is in flight; (4) a body that throws changes nothing.
 *
 * <p>Thread: the loop only. Owner: {@link ServiceManager}.
 */
final class WriteGate<S> {

    private static final Logger LOG = LoggerFactory.getLogger(WriteGate.class);

    /** An event that waits for the write in flight; {@code onError} (may be null) hears if it never runs. */
    private record Waiting(Runnable body, Consumer<RuntimeException> onError) {}

    private final EventLoop loop;
    private final Registry store;
    private final Supplier<S> copy;
    private final Supplier<S> current;
    private final Consumer<S> install;
    private final Consumer<String> storeFailed;

    /** Inside {@link #run}: {@link #persist} collects instead of writing. */
    private boolean inTxn;
    /** A write is in flight (or failed): events wait in {@link #waiting}. */
    private boolean writing;
    private boolean resuming;
    private final List<RegistryOp> txOps = new ArrayList<>();
    private final List<Runnable> txThens = new ArrayList<>();
    private final List<CompletableFuture<?>> txAnswers = new ArrayList<>();
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();

    /**
     * @param copy a deep copy of the state (the snapshot put back until a write succeeded)
     * @param current the state as it is (by reference)
     * @param install makes a state the current one
     * @param storeFailed told once when a write fails: leadership is over
     */
    WriteGate(EventLoop loop, Registry store, Supplier<S> copy, Supplier<S> current, Consumer<S> install,
            Consumer<String> storeFailed) {
        this.loop = loop;
        this.store = store;
        this.copy = copy;
        this.current = current;
        this.install = install;
        this.storeFailed = storeFailed;
    }

    /**
     * Adds {@code ops} to the running transaction's write; {@code then} runs once it succeeded, {@code
     * answer} (if any) fails if it does not.
     */
    void persist(List<RegistryOp> ops, Runnable then, CompletableFuture<?> answer) {
        if (!inTxn) {
            throw new IllegalStateException("a store write outside a transaction: " + ops);
        }
        txOps.addAll(ops);
        txThens.add(then);
        if (answer != null) {
            txAnswers.add(answer);
        }
    }

    /**
     * Runs {@code body} as one transaction: the change it makes to the state is installed only after
     * the operations it collected were written; then its actions run. A body that throws changes
     * nothing ({@code onError} hears why, or the exception goes on to the loop).
     */
    void run(Runnable body, Consumer<RuntimeException> onError) {
        if (inTxn) {
            body.run(); // part of the enclosing transaction
            return;
        }
        if (writing) {
            waiting.add(new Waiting(body, onError));
            return;
        }
        S before = copy.get();
        inTxn = true;
        try {
            body.run();
        } catch (RuntimeException e) {
            inTxn = false;
            install.accept(before);
            clear();
            if (onError == null) {
                throw e;
            }
            onError.accept(e);
            return;
        }
        inTxn = false;
        List<RegistryOp> ops = List.copyOf(txOps);
        List<Runnable> thens = List.copyOf(txThens);
        List<CompletableFuture<?>> answers = List.copyOf(txAnswers);
        clear();
        if (ops.isEmpty()) {
            thens.forEach(Runnable::run);
            return;
        }
        S after = current.get();
        install.accept(before); // until the write succeeded, memory stays what is stored
        writing = true;
        CompletableFuture<Void> write;
        try {
            write = store.write(ops);
        } catch (RuntimeException e) {
            write = CompletableFuture.failedFuture(e);
        }
        if (write.isDone() && !write.isCompletedExceptionally()) {
            committed(after, thens);
            return;
        }
        write.whenComplete((v, e) -> loop.append(() -> {
            if (e == null) {
                committed(after, thens);
            } else {
                failed(e instanceof CompletionException c ? c.getCause() : e, answers);
            }
        }));
    }

    private void clear() {
        txOps.clear();
        txThens.clear();
        txAnswers.clear();
    }

    private void committed(S after, List<Runnable> thens) {
        install.accept(after);
        writing = false;
        thens.forEach(Runnable::run);
        if (resuming) {
            return; // the outer committed() runs the rest of the waiting events
        }
        resuming = true;
        try {
            while (!writing && !waiting.isEmpty()) {
                Waiting w = waiting.poll();
                run(w.body, w.onError);
            }
        } finally {
            resuming = false;
        }
    }

    /** Memory stays as stored; nothing is acted on; this leadership ends. */
    private void failed(Throwable cause, List<CompletableFuture<?>> answers) {
        ApiException unavailable = new ApiException(503, "unavailable", "could not store the change: " + cause.getMessage());
        answers.forEach(a -> a.completeExceptionally(unavailable));
        waiting.forEach(w -> {
            if (w.onError != null) {
                w.onError.accept(unavailable);
            }
        });
        waiting.clear(); // writing stays true: nothing more runs
        LOG.warn("Store write failed, nothing applied: {}", cause.getMessage());
        storeFailed.accept("store write failed: " + cause.getMessage());
    }
}

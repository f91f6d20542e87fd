package io.mezzo.sim;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * The simulated world: the virtual clock, one queue of timed actions (message deliveries, registry
 * write completions, faults, the frameworks' and containers' timers), the daemons' manual event
 * loops, the seeded random and the trace. {@link #step()} runs the next thing that happens and then
 * every loop until it is idle.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Time never goes back; actions at the same time run in the order they were scheduled.
 *   <li>Every choice comes from {@link #random}, seeded once: a seed replays exactly.
 *   <li>A fault reported by any daemon's loop is recorded and fails the run.
 * </ol>
 *
 * <p>Thread: the simulation's only.
 */
final class World {

    /** One timed action. */
    private record Action(long at, long sequence, String what, Runnable run) implements Comparable<Action> {
        @Override
        public int compareTo(Action o) {
            int byTime = Long.compare(at, o.at);
            return byTime != 0 ? byTime : Long.compare(sequence, o.sequence);
        }
    }

    final long seed;
    final Random random;
    final SimClock clock = new SimClock();
    final List<String> faults = new ArrayList<>();
    final FaultHandler faultHandler = (what, error) -> faults.add(what + (error == null ? "" : ": " + error));
    private final PriorityQueue<Action> actions = new PriorityQueue<>();
    private final List<EventLoop> loops = new ArrayList<>();
    private final java.util.Set<EventLoop> busy = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final ArrayDeque<String> trace = new ArrayDeque<>();
    private final int traceLimit;
    private long sequence;
    private long steps;

    World(long seed, int traceLimit) {
        this.seed = seed;
        this.random = new Random(seed);
        this.traceLimit = traceLimit;
    }

    /** Runs {@code run} after {@code delayMillis} of virtual time. */
    void after(long delayMillis, String what, Runnable run) {
        actions.add(new Action(clock.millis() + Math.max(0, delayMillis), sequence++, what, run));
    }

    /** A new manual loop driven by this world. */
    EventLoop newLoop(String name) {
        EventLoop loop = EventLoop.manual(name, clock, (what, error) -> {
            faultHandler.handleFault(name + ": " + what, error);
        });
        loops.add(loop);
        return loop;
    }

    /** The loop is gone with its daemon: nothing it had pending runs. */
    void dropLoop(EventLoop loop) {
        loops.remove(loop);
        loop.close();
    }

    /** Appends a line to the trace (the last {@code traceLimit} lines are kept). */
    void trace(String line) {
        if (traceLimit == 0) {
            return;
        }
        if (trace.size() == traceLimit) {
            trace.removeFirst();
        }
        trace.addLast(String.format("%9.3f  %s", clock.elapsed() / 1000.0, line));
    }

    List<String> trace() {
        return List.copyOf(trace);
    }

    long steps() {
        return steps;
    }

    /**
     * Moves time to the next action or timer, runs it and then every loop until idle. False when
     * nothing is left to happen before {@code until} (clock millis).
     */
    boolean step(long until) {
        long nextTimer = Long.MAX_VALUE;
        for (EventLoop loop : loops) {
            nextTimer = Math.min(nextTimer, loop.nextDeadline());
        }
        Action next = actions.peek();
        long at = Math.min(nextTimer, next == null ? Long.MAX_VALUE : next.at);
        if (at > until) {
            clock.set(Math.max(clock.millis(), until));
            return false;
        }
        clock.set(Math.max(clock.millis(), at));
        steps++;
        if (next != null && next.at <= at) {
            actions.poll();
            if (!next.what.isEmpty()) {
                trace(next.what);
            }
            next.run.run();
        }
        runLoops();
        return true;
    }

    /** Runs every loop until none has anything left to do now. */
    void runLoops() {
        boolean ran = true;
        while (ran) {
            ran = false;
            for (EventLoop loop : List.copyOf(loops)) {
                if (loops.contains(loop) && loop.runReady() > 0) {
                    ran = true;
                    busy.add(loop);
                }
            }
        }
    }

    /** Whether {@code loop} ran anything since the last {@link #clearBusy()}. */
    boolean ran(EventLoop loop) {
        return busy.contains(loop);
    }

    void clearBusy() {
        busy.clear();
    }
}

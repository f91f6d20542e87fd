package io.mezzo.agent.gc;

import io.mezzo.agent.containerizer.Sandbox;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.loop.EventLoop;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes finished tasks' sandboxes: each {@code --gc_delay} after its task was forgotten (its terminal
 * update acknowledged), or sooner, oldest first, while the file system holding the work directory is
 * fuller than {@code --gc_disk_watermark}. Sandboxes a previous agent left are scheduled at start from
 * their modification time. Empty parent directories (the task's, the framework's) go with the last run.
 *
 * <pre>
 *   schedule(dir) -> queue by deadline; one loop timer "gc" for the earliest
 *   timer -> due sandboxes deleted on a worker
 *   checkDisk() (every --disk_watch_interval) -> over the watermark: a worker deletes queued sandboxes,
 *                oldest first, re-measuring after each, until under it
 * </pre>
 *
 * <p>Thread: the agent's loop; deletions run on workers and report back to the loop. Owner: the agent's
 * core, whose disk timer calls {@link #checkDisk}; the task lifecycle schedules forgotten tasks'
 * sandboxes. Public only so that the agent can create it.
 */
public final class SandboxGc {

    private static final Logger LOG = LoggerFactory.getLogger(SandboxGc.class);
    private static final String TIMER = "gc";

    private record Entry(long deadline, long sequence, Path dir) {}

    private final EventLoop loop;
    private final Clock clock;
    private final Executor workers;
    private final Duration delay;
    private final double watermark;
    private final Path workDir;
    private final ToDoubleFunction<Path> fileSystemUsage;
    // Loop thread only.
    private final PriorityQueue<Entry> queue = new PriorityQueue<>(
            Comparator.comparingLong(Entry::deadline).thenComparingLong(Entry::sequence));
    private final Set<Path> queued = new HashSet<>();
    /** Sandboxes removed so far (metrics). Any thread. */
    private final java.util.concurrent.atomic.LongAdder removedTotal = new java.util.concurrent.atomic.LongAdder();
    private final Set<Path> deleting = new HashSet<>();
    private long sequence;
    private boolean pruning;

    /**
     * @param fileSystemUsage measures how full the work directory's file system is (0 to 1)
     */
    public SandboxGc(EventLoop loop, Executor workers, Duration delay, double watermark, Path workDir,
            ToDoubleFunction<Path> fileSystemUsage) {
        this.loop = loop;
        this.clock = loop.clock();
        this.workers = workers;
        this.delay = delay;
        this.watermark = watermark;
        this.workDir = workDir;
        this.fileSystemUsage = fileSystemUsage;
    }

    /** Removes {@code sandbox} {@code --gc_delay} after {@code finishedAtMillis}. Loop thread. */
    public void schedule(Path sandbox, long finishedAtMillis) {
        if (!queued.add(sandbox)) {
            return;
        }
        queue.add(new Entry(finishedAtMillis + delay.toMillis(), sequence++, sandbox));
        armTimer();
    }

    /** Sandboxes waiting for removal. Loop thread. */
    public int size() {
        return queue.size();
    }

    /**
     * Schedules every sandbox under the work directory not in {@code live}, by its modification time (an
     * agent restart). Loop thread, at start.
     */
    public void scheduleExisting(Set<Path> live) {
        int found = 0;
        for (Path run : runs(workDir)) {
            if (live.contains(run)) {
                continue;
            }
            long modified;
            try {
                modified = Files.getLastModifiedTime(run).toMillis();
            } catch (IOException e) {
                continue;
            }
            schedule(run, Math.min(modified, clock.millis()));
            found++;
        }
        if (found > 0) {
            LOG.info("Scheduled {} sandboxes of finished tasks for removal after {}", found, delay);
        }
    }

    /** Sandboxes removed so far. Any thread. */
    public long removedCount() {
        return removedTotal.sum();
    }

    /** Removes queued sandboxes, oldest first, while the file system is fuller than the watermark. Loop thread. */
    public void checkDisk() {
        if (pruning || queue.isEmpty()) {
            return;
        }
        List<Entry> oldestFirst = new ArrayList<>(queue);
        oldestFirst.sort(queue.comparator());
        pruning = true;
        List<Path> candidates = oldestFirst.stream().map(Entry::dir).toList();
        submit(() -> {
            List<Path> removed = new ArrayList<>();
            double usage = fileSystemUsage.applyAsDouble(workDir);
            double before = usage;
            for (Path dir : candidates) {
                if (usage <= watermark) {
                    break;
                }
                delete(dir);
                removedTotal.increment();
                removed.add(dir);
                usage = fileSystemUsage.applyAsDouble(workDir);
            }
            double after = usage;
            loop.append(() -> {
                pruning = false;
                forget(removed);
                if (!removed.isEmpty()) {
                    LOG.info("Removed {} sandboxes early: the work directory's file system was {}% full, above the"
                            + " {}% watermark (now {}%)", removed.size(), percent(before), percent(watermark),
                            percent(after));
                } else if (before > watermark) {
                    LOG.warn("The work directory's file system is {}% full, above the {}% watermark, and no finished"
                            + " sandbox is left to remove", percent(before), percent(watermark));
                }
            });
        }, () -> pruning = false);
    }

    private void armTimer() {
        Entry first = queue.peek();
        if (first == null) {
            loop.cancel(TIMER);
            return;
        }
        loop.schedule(TIMER, Duration.ofMillis(Math.max(0, first.deadline() - clock.millis())), this::collect);
    }

    private void collect() {
        long now = clock.millis();
        List<Path> due = new ArrayList<>();
        while (!queue.isEmpty() && queue.peek().deadline() <= now) {
            Entry e = queue.poll();
            queued.remove(e.dir());
            if (deleting.add(e.dir())) {
                due.add(e.dir());
            }
        }
        armTimer();
        if (due.isEmpty()) {
            return;
        }
        submit(() -> {
            due.forEach(SandboxGc::delete);
            removedTotal.add(due.size());
            loop.append(() -> {
                due.forEach(deleting::remove);
                LOG.info("Removed {} sandboxes of tasks finished more than {} ago", due.size(), delay);
            });
        }, () -> due.forEach(deleting::remove));
    }

    private void forget(List<Path> removed) {
        Set<Path> gone = new HashSet<>(removed);
        queue.removeIf(e -> gone.contains(e.dir()));
        queued.removeAll(gone);
        armTimer();
    }

    private void submit(Runnable job, Runnable refused) {
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            refused.run();
        }
    }

    /** Worker thread: removes a run's sandbox, then its task's and framework's directories if now empty. */
    static void delete(Path run) {
        if (!Sandbox.deleteTree(run)) {
            LOG.warn("Cannot remove sandbox {} completely", run);
            return;
        }
        LOG.debug("Removed sandbox {}", run);
        // runs/ -> <task>/ -> tasks/ -> <framework>/ : each only if empty (a new run may have started).
        Path dir = run.getParent();
        for (int i = 0; i < 4 && dir != null; i++) {
            try {
                Files.delete(dir);
            } catch (IOException e) {
                return;
            }
            dir = dir.getParent();
        }
    }

    /** Every run directory under {@code <work_dir>/agents/*}{@code /frameworks/*}{@code /tasks/*}{@code /runs/}. */
    static List<Path> runs(Path workDir) {
        List<Path> out = new ArrayList<>();
        for (Path agent : children(workDir.resolve("agents"))) {
            for (Path framework : children(agent.resolve("frameworks"))) {
                for (Path task : children(framework.resolve("tasks"))) {
                    out.addAll(children(task.resolve("runs")));
                }
            }
        }
        return out;
    }

    private static List<Path> children(Path dir) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            // Unreadable: nothing to collect there.
        }
        return out;
    }

    private static long percent(double fraction) {
        return Math.round(fraction * 100);
    }
}

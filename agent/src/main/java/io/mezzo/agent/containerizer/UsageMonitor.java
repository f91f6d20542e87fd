package io.mezzo.agent.containerizer;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.ContainerStatus;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.ResourceStatistics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Watches the running containers' usage and enforces what the kernel does not: samples every container
 * on a worker, measures every sandbox's disk on a worker, and reports a container that outgrew its
 * memory or disk to its {@link Listener}, which kills it.
 *
 * <pre>
 *   sample()      (every --usage_interval)      -> worker: Containerizer.sample each container
 *     -> loop: cgroups: an OOM kill counted     -> Listener.limitExceeded(memory)
 *              posix:   rss above the mem limit -> Listener.limitExceeded(memory)
 *   measureDisk() (every --disk_watch_interval) -> worker: DiskUsage.of each sandbox
 *     -> loop: above the disk resource          -> --enforce_disk_limit: Listener.limitExceeded(disk)
 *                                                  else one WARN line per container
 *   snapshot()    (operator API, on the loop)   -> immutable views, sampled afresh off the loop
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Every field is read and written on the loop only. A worker gets copies (the container handles,
 *       whose identity fields are immutable, and the sandbox paths) and hands its results back as a loop
 *       event; a view for the operator API copies what it shows (the disk measured last) on the loop.
 *   <li>At most one sampling and one disk measurement run at a time; a tick while one runs is skipped.
 *   <li>Only containers whose exit has not been handled are sampled, measured, reported or shown.
 * </ol>
 *
 * <p>Soft state: the last disk measurement per container (a restarted agent measures again).
 *
 * <p>Thread: the agent's event loop; sampling and measuring run on workers. Owner: the agent's task
 * lifecycle ({@code TaskLifecycle}, in the core), its listener, which watches a container while its task
 * runs; the core's timers call {@link #sample} and {@link #measureDisk}. Public only so that the core
 * can use it.
 */
public final class UsageMonitor {

    /** Told of a container past its limits. Called on the loop. */
    @FunctionalInterface
    public interface Listener {
        /** {@code container} outgrew a limit: kill it and report {@code limitation}. */
        void limitExceeded(Container container, Limitation limitation);
    }

    /**
     * One running container as the operator API shows it, copied on the loop; {@link #status} adds a
     * fresh usage sample off the loop.
     */
    public record ContainerView(
            FrameworkId framework,
            TaskId task,
            Container container,
            Limits limits,
            long diskUsedBytes,
            boolean cgroups,
            boolean capsCpu,
            boolean enforceDiskLimit) {}

    private static final Logger LOG = LoggerFactory.getLogger(UsageMonitor.class);

    /** One watched container. Loop thread only. */
    private static final class Watched {
        final Container container;
        final Limits limits;
        final AgentId agent;
        final FrameworkId framework;
        final TaskId task;
        /** Bytes its sandbox held when last measured. */
        long diskUsed;
        /** The one WARN line about exceeding its disk (not enforced) was logged. */
        boolean diskWarned;

        Watched(Container container, Limits limits, AgentId agent, FrameworkId framework, TaskId task) {
            this.container = container;
            this.limits = limits;
            this.agent = agent;
            this.framework = framework;
            this.task = task;
        }
    }

    private final EventLoop loop;
    private final Executor workers;
    private final Containerizer containerizer;
    private final boolean enforceDiskLimit;
    private final Listener listener;
    // Loop thread only (invariant 1).
    private final Map<ContainerId, Watched> watched = new LinkedHashMap<>();
    private boolean sampling;
    private boolean measuringDisk;
    /** The last usage of each running task, published by the loop for metrics (any thread reads). */
    private volatile List<TaskUsage> latestUsage = List.of();

    /**
     * A running task's last usage, for metrics: immutable, published after every sample.
     *
     * @param framework the task's framework
     * @param task the task
     * @param cpuSeconds user plus system CPU time used so far
     * @param memBytes resident memory
     * @param diskBytes sandbox bytes when last measured
     */
    public record TaskUsage(FrameworkId framework, TaskId task, double cpuSeconds, long memBytes, long diskBytes) {}

    /**
     * @param workers runs the sampling and the disk measurements off the loop
     * @param enforceDiskLimit {@code --enforce_disk_limit}: kill a task past its disk, else warn once
     */
    public UsageMonitor(EventLoop loop, Executor workers, Containerizer containerizer, boolean enforceDiskLimit,
            Listener listener) {
        this.loop = loop;
        this.workers = workers;
        this.containerizer = containerizer;
        this.enforceDiskLimit = enforceDiskLimit;
        this.listener = listener;
    }

    /**
     * Starts watching a running container of task {@code task} of {@code framework} (ids for log lines)
     * on agent {@code agent}, within {@code limits}. Loop thread.
     */
    public void watch(Container container, Limits limits, AgentId agent, FrameworkId framework, TaskId task) {
        watched.put(container.id(), new Watched(container, limits, agent, framework, task));
    }

    /** Stops watching a container (it exited, or its task was forgotten). Loop thread. */
    public void unwatch(ContainerId id) {
        watched.remove(id);
    }

    /** Bytes the container's sandbox held when last measured, 0 before the first. Loop thread. */
    public long diskUsed(ContainerId id) {
        Watched w = watched.get(id);
        return w == null ? 0 : w.diskUsed;
    }

    /** Samples every running container on a worker, then enforces memory limits with the result. Loop thread. */
    public void sample() {
        if (sampling) {
            return;
        }
        List<Container> containers = live().stream().map(w -> w.container).toList();
        if (containers.isEmpty()) {
            return;
        }
        sampling = true;
        submit(() -> {
            Map<ContainerId, UsageSample> samples = new LinkedHashMap<>();
            for (Container c : containers) {
                samples.put(c.id(), containerizer.sample(c));
            }
            loop.append(() -> sampled(samples));
        }, () -> sampling = false);
    }

    /** Measures every running container's sandbox on a worker, then enforces (or warns about) disk limits. */
    public void measureDisk() {
        List<Watched> live = live();
        if (measuringDisk || live.isEmpty()) {
            return;
        }
        measuringDisk = true;
        Map<ContainerId, Path> sandboxes = new LinkedHashMap<>();
        live.forEach(w -> sandboxes.put(w.container.id(), w.container.sandbox()));
        submit(() -> {
            Map<ContainerId, Long> used = new LinkedHashMap<>();
            sandboxes.forEach((id, dir) -> used.put(id, DiskUsage.of(dir)));
            loop.append(() -> diskMeasured(used));
        }, () -> measuringDisk = false);
    }

    /** The running containers with what the operator API shows of them. Loop thread; sample them off it. */
    public List<ContainerView> snapshot() {
        Isolator isolator = containerizer.isolator();
        return live().stream()
                .map(w -> new ContainerView(w.framework, w.task, w.container, w.limits, w.diskUsed,
                        isolator.enforcesMemory(), isolator.capsCpu(), enforceDiskLimit))
                .toList();
    }

    /** The operator API's view of a container with {@code sample}. Pure; any thread. */
    public static ContainerStatus status(ContainerView view, UsageSample sample, double now) {
        Limits limits = view.limits();
        ResourceStatistics.Builder stats = ResourceStatistics.newBuilder()
                .setTimestamp(now)
                .setCpusUserTimeSecs(sample.cpuUserSeconds())
                .setCpusSystemTimeSecs(sample.cpuSystemSeconds())
                .setCpusLimitMilli(view.capsCpu() ? limits.cpusMilli() : 0)
                .setMemRssBytes(sample.rssBytes())
                // posix enforces the limit by sampling, so it is a limit all the same.
                .setMemLimitBytes(view.cgroups() ? sample.memLimitBytes() : limits.enforcedMemBytes())
                .setDiskUsedBytes(view.diskUsedBytes())
                .setDiskLimitBytes(view.enforceDiskLimit() ? limits.diskBytes() : 0)
                .setProcesses(sample.processes());
        return ContainerStatus.newBuilder()
                .setFrameworkId(view.framework().toProto())
                .setTaskId(view.task().toProto())
                .setExecutorId(ExecutorID.newBuilder().setValue(view.task().value()))
                .setContainerId(view.container().id().toProto())
                .setIsolation(view.container().isolation().isolator())
                .setPid((int) view.container().pid())
                .setStatistics(stats)
                .build();
    }

    /** The last usage of each running task (metrics). Any thread. */
    public List<TaskUsage> latestUsage() {
        return latestUsage;
    }

    private void sampled(Map<ContainerId, UsageSample> samples) {
        sampling = false;
        List<TaskUsage> usage = new java.util.ArrayList<>();
        for (Watched w : watched.values()) {
            UsageSample sample = samples.get(w.container.id());
            if (sample != null && !w.container.isExited()) {
                usage.add(new TaskUsage(w.framework, w.task, sample.cpuUserSeconds() + sample.cpuSystemSeconds(),
                        sample.rssBytes(), w.diskUsed));
            }
        }
        latestUsage = List.copyOf(usage);
        for (Watched w : List.copyOf(watched.values())) {
            UsageSample sample = samples.get(w.container.id());
            if (sample == null || w.container.isExited()) {
                continue;
            }
            long mem = w.limits.enforcedMemBytes();
            if (containerizer.isolator().enforcesMemory()) {
                if (sample.oomKills() > 0) {
                    listener.limitExceeded(w.container, Limitation.memory(w.limits, sample.memPeakBytes()));
                }
            } else if (mem > 0 && sample.rssBytes() > mem) {
                listener.limitExceeded(w.container, Limitation.memory(w.limits, sample.rssBytes()));
            }
        }
    }

    private void diskMeasured(Map<ContainerId, Long> used) {
        measuringDisk = false;
        for (Watched w : List.copyOf(watched.values())) {
            Long bytes = used.get(w.container.id());
            if (bytes == null || w.container.isExited()) {
                continue;
            }
            w.diskUsed = bytes;
            long limit = w.limits.diskBytes();
            if (limit <= 0 || bytes <= limit) {
                continue;
            }
            mdc(w);
            if (enforceDiskLimit) {
                listener.limitExceeded(w.container, Limitation.disk(w.limits, bytes));
            } else if (!w.diskWarned) {
                w.diskWarned = true;
                LOG.warn("Task {} of framework {}: {} (not enforced: --enforce_disk_limit is off)", w.task,
                        w.framework, Limitation.diskUsage(w.limits, bytes));
            }
        }
    }

    private List<Watched> live() {
        List<Watched> live = new ArrayList<>();
        for (Watched w : watched.values()) {
            if (!w.container.isExited()) {
                live.add(w);
            }
        }
        return live;
    }

    /** Runs {@code job} on a worker; if the workers are gone (the agent stops), runs {@code refused} instead. */
    private void submit(Runnable job, Runnable refused) {
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            refused.run();
        }
    }

    /** The ids of the container's task for this loop event's log lines (the loop clears them). */
    private static void mdc(Watched w) {
        if (w.agent != null) {
            MDC.put("agent", w.agent.value());
        }
        MDC.put("framework", w.framework.value());
        MDC.put("task", w.task.value());
    }
}

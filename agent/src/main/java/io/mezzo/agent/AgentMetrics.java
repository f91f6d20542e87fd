package io.mezzo.agent;

import io.mezzo.agent.checkpoint.Checkpointer;
import io.mezzo.agent.containerizer.UsageMonitor;
import io.mezzo.agent.fetcher.Fetcher;
import io.mezzo.agent.gc.SandboxGc;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskState;
import io.prometheus.metrics.core.datapoints.Timer;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Every metric of an agent, in one place: what the agent's {@code GET /metrics} prints (Prometheus
 * text format, names under {@code mezzo_agent_}). The list, with labels and their cardinality, is
 * in docs/operations.md; keep both in step.
 *
 * <p>Counters of events are bumped where the event happens (the core's {@code TaskLifecycle}); the
 * sub-packages, which may not depend on the core, keep their own thread-safe counts (fetcher cache,
 * sandbox GC, status updates) or publish immutable values (usage), and this class reads them at
 * scrape time. Nothing here runs on, or waits for, the agent's loop.
 *
 * <p>Invariant: labels take bounded values. Per-task usage is labelled by framework and task, but
 * only for tasks running now, and at most {@link #MAX_TASK_SERIES} of them: the series of a task
 * disappear when it ends.
 *
 * <p>Owner: {@link Agent} (one registry per agent). Thread-safe.
 */
public final class AgentMetrics {

    /** The most tasks whose usage is reported one by one; the totals count every task. */
    public static final int MAX_TASK_SERIES = 500;

    private static final double[] LATENCY_BUCKETS = {
        0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
    };

    private final PrometheusRegistry registry = new PrometheusRegistry();

    private final Counter taskTransitions = Counter.builder()
            .name("mezzo_agent_task_transitions_total")
            .help("Task states the agent reported, by state and reason (TASK_STARTING counts launches,"
                    + " TASK_FAILED failures by reason)")
            .labelNames("state", "reason")
            .register(registry);
    private final Counter kills = Counter.builder()
            .name("mezzo_agent_task_kills_total")
            .help("KILL_TASK requests the agent acted on")
            .register(registry);
    private final Histogram checkpointWrite = Histogram.builder()
            .name("mezzo_agent_checkpoint_write_seconds")
            .help("Latency of checkpoint writes under <work_dir>/meta (write, fsync, rename)")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);

    /** An agent's metrics; the sources are bound by {@link #watch}. */
    public AgentMetrics() {}

    /** Binds the gauges and counters read at scrape time to the agent's parts. */
    void watch(EventLoop loop, StatusUpdateManager updates, Fetcher fetcher, SandboxGc gc, UsageMonitor usage,
            Checkpointer checkpointer) {
        GaugeWithCallback.builder()
                .name("mezzo_agent_event_queue_depth")
                .help("Events waiting in the agent's event-loop queue")
                .callback(cb -> cb.call(loop.queueSize()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_agent_status_updates_pending")
                .help("Status updates sent or queued and not yet acknowledged")
                .callback(cb -> cb.call(updates.pendingCount()))
                .register(registry);
        counter("mezzo_agent_status_update_retries", "Status updates resent for want of an acknowledgement",
                updates::resentCount);
        counter("mezzo_agent_fetcher_cache_hits", "Fetches answered from the fetcher cache", fetcher::cacheHits);
        counter("mezzo_agent_fetcher_cache_misses", "Cached fetches that had to download", fetcher::cacheMisses);
        counter("mezzo_agent_fetcher_bytes", "Bytes the fetcher downloaded", fetcher::bytesFetched);
        counter("mezzo_agent_sandbox_gc_removed", "Sandboxes of finished tasks removed", gc::removedCount);
        GaugeWithCallback.builder()
                .name("mezzo_agent_task_cpu_seconds")
                .help("CPU time (user + system) used by a running task, as last sampled")
                .labelNames("framework", "task")
                .callback(cb -> perTask(usage, u -> cb.call(u.cpuSeconds(), u.framework().value(), u.task().value())))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_agent_task_memory_bytes")
                .help("Resident memory of a running task, as last sampled")
                .labelNames("framework", "task")
                .callback(cb -> perTask(usage, u -> cb.call(u.memBytes(), u.framework().value(), u.task().value())))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_agent_task_disk_bytes")
                .help("Bytes in a running task's sandbox, as last measured")
                .labelNames("framework", "task")
                .callback(cb -> perTask(usage, u -> cb.call(u.diskBytes(), u.framework().value(), u.task().value())))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_agent_tasks_running")
                .help("Tasks running now (with a usage sample)")
                .callback(cb -> cb.call(usage.latestUsage().size()))
                .register(registry);
        checkpointer.timeWritesWith(() -> {
            Timer timer = checkpointWrite.startTimer();
            return timer::observeDuration;
        });
    }

    private static void perTask(UsageMonitor usage, java.util.function.Consumer<UsageMonitor.TaskUsage> each) {
        List<UsageMonitor.TaskUsage> all = usage.latestUsage();
        all.subList(0, Math.min(all.size(), MAX_TASK_SERIES)).forEach(each);
    }

    private void counter(String name, String help, LongSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsLong())).register(registry);
    }

    /** The agent reported {@code state} for a task. */
    void taskTransition(TaskState state, StatusReason reason) {
        taskTransitions.labelValues(state.name(), reason.name()).inc();
    }

    /** The agent acted on a KILL_TASK. */
    void taskKilled() {
        kills.inc();
    }

    /** The content type of {@link #scrape()}. */
    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    /** Every metric, in the Prometheus text format. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8 * 1024);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}

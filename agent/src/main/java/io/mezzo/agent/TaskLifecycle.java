package io.mezzo.agent;

import io.mezzo.agent.checkpoint.Checkpointer;
import io.mezzo.agent.containerizer.Container;
import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.Limitation;
import io.mezzo.agent.containerizer.Sandbox;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.agent.containerizer.Termination;
import io.mezzo.agent.containerizer.UsageMonitor;
import io.mezzo.agent.gc.SandboxGc;
import io.mezzo.agent.health.HealthMonitor;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskCheckpoint;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's frameworks and tasks, and every change of a task once it is known: its state (the one
 * writer), its phase, a kill, its exit, a limit or health check it failed, its framework's shutdown, and
 * forgetting it once its terminal update is acknowledged.
 *
 * <pre>
 *   report(task, state)  -> stamp -> task's state set -> StatusUpdateManager.add (checkpoint, then send)
 *   KILL_TASK            -> LAUNCHING: TASK_KILLED now | RUNNING: [TASK_KILLING], kill checkpointed,
 *                           SIGTERM ... grace ... SIGKILL | KILLING: shorter grace | TERMINAL: ignored
 *   container exited     -> TASK_FINISHED / FAILED / KILLED (limitation, kill, exit status)
 *   UsageMonitor limit   -> kill at once; the exit reports TASK_FAILED with the limitation
 *   HealthMonitor        -> TASK_RUNNING healthy=... | threshold failed: kill -> TASK_KILLED
 *   SHUTDOWN_FRAMEWORK   -> streams dropped, tasks killed; each end sent once, unacknowledged
 *   terminal update acknowledged (StatusUpdateManager) -> task forgotten, sandbox to GC
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>{@link #report} is the only writer of a task's state: the update is stamped, its status becomes
 *       the task's latest, and the status update manager checkpoints and sends it (TaskRecord invariant 1).
 *   <li>A task is in {@code tasks} from RUN_TASK until its terminal update is acknowledged (or its
 *       framework is shut down); a second RUN_TASK for it is ignored.
 *   <li>Every update of a known task goes through the status update manager, so it reaches the master
 *       in order and is retried until acknowledged; only tasks of a framework the master removed get a
 *       single, unretried terminal update.
 *   <li>Task phase changes follow {@link TaskRecord.Phase}; an illegal one goes to the fault handler.
 *   <li>A framework is known while it has a task here.
 * </ol>
 *
 * <p>Hard state, for frameworks that checkpoint: the frameworks and each task with its kill request
 * (written through the status update manager with the task's stream). Soft state: the agent's id (from
 * its checkpoint or the master), the container handles, health results, limitations.
 *
 * <p>Thread: the agent's event loop only. Owner: {@link AgentCore}. It makes and owns the running tasks'
 * monitors ({@link HealthMonitor}, {@link UsageMonitor}), whose listener it is, and is the status update
 * manager's listener (terminal acknowledgements).
 */
final class TaskLifecycle implements HealthMonitor.Listener, UsageMonitor.Listener, StatusUpdateManager.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(TaskLifecycle.class);

    private final AgentConfig config;
    private final EventLoop loop;
    private final Containerizer containerizer;
    private final StatusUpdateManager updates;
    private final SandboxGc gc;
    private final Checkpointer checkpointer;
    private final FaultHandler faultHandler;
    private final HealthMonitor health;
    private final UsageMonitor usage;
    private final AgentMetrics metrics;

    private AgentId agentId;
    private boolean stopped;
    private final Map<FrameworkId, FrameworkInfo> frameworks = new LinkedHashMap<>();
    private final Map<TaskKey, TaskRecord> tasks = new LinkedHashMap<>();

    TaskLifecycle(
            AgentConfig config,
            EventLoop loop,
            Containerizer containerizer,
            StatusUpdateManager updates,
            Executor workers,
            SandboxGc gc,
            Checkpointer checkpointer,
            AgentMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.loop = loop;
        this.containerizer = containerizer;
        this.updates = updates;
        this.gc = gc;
        this.checkpointer = checkpointer;
        this.faultHandler = config.faultHandler();
        this.health = new HealthMonitor(loop, workers, containerizer.agentEnvironment(), this);
        this.usage = new UsageMonitor(loop, workers, containerizer, config.enforceDiskLimit(), this);
        updates.listener(this);
    }

    // ---------------------------------------------------------------- the table

    /** The agent's id: from its checkpoint or the master; null before either. */
    AgentId agentId() {
        return agentId;
    }

    /** Sets the agent's id (the master registered it, or recovery found it). */
    void agentId(AgentId id) {
        this.agentId = id;
    }

    /** True once the agent stops: no more launches, reports or measurements. */
    boolean stopped() {
        return stopped;
    }

    /** The task, if the agent has it. */
    TaskRecord task(TaskKey key) {
        return tasks.get(key);
    }

    /** Every task, in the order they came. */
    List<TaskRecord> tasks() {
        return new ArrayList<>(tasks.values());
    }

    /** True while the agent has the task or is still reporting its end. */
    boolean has(TaskKey key) {
        return tasks.containsKey(key) || updates.hasStream(key);
    }

    /** Adds a task that is launching or was recovered (invariant 2). */
    void add(TaskRecord task) {
        tasks.put(task.key, task);
    }

    /** The framework, while it has a task here. */
    FrameworkInfo framework(FrameworkId id) {
        return frameworks.get(id);
    }

    /** Knows {@code framework} (it sent a task, or it was recovered). */
    void framework(FrameworkInfo framework) {
        frameworks.put(FrameworkId.of(framework.getId()), framework);
    }

    /** The task's monitors. */
    UsageMonitor usage() {
        return usage;
    }

    // ---------------------------------------------------------------- state and phase (invariants 1, 4)

    /**
     * Reports {@code state} for {@code task}: stamps the update, makes it the task's latest status (the
     * only write of a task's state), and hands it to the status update manager, which checkpoints it with
     * the task's record before sending it. The terminal update of a task whose framework was removed is
     * sent once and the task forgotten (invariant 3).
     */
    void report(TaskRecord task, TaskState state, StatusReason reason, String message, StatusSource source,
            Integer exitCode) {
        TaskStatus.Builder status = status(task.key, task, state)
                .setReason(reason)
                .setMessage(message)
                .setSource(source);
        if (exitCode != null) {
            status.setExitCode(exitCode);
        }
        StatusUpdate update = updates.stamp(task.key.framework(), status.build());
        task.reported(update.getStatus());
        metrics.taskTransition(state, reason);
        if (task.frameworkRemoved && TaskStates.isTerminal(state)) {
            // Nobody will acknowledge it: tell the master once and forget the task (invariant 3).
            updates.sendOnce(update);
            forget(task.key);
            return;
        }
        updates.add(update, record(task));
    }

    /** Reports {@code state} for a task the agent does not have (refused, or unknown): nothing is checkpointed. */
    void reportUnknown(TaskKey key, TaskState state, StatusReason reason, String message) {
        updates.add(key.framework(), status(key, null, state)
                .setReason(reason)
                .setMessage(message)
                .setSource(StatusSource.SOURCE_AGENT)
                .build());
    }

    /** Moves the task to {@code next}; an illegal move goes to the fault handler (invariant 4). */
    void move(TaskRecord task, TaskRecord.Phase next) {
        if (!task.canMoveTo(next)) {
            faultHandler.handleFault("illegal transition of task " + task.key + ": " + task.phase() + " -> " + next,
                    null);
        }
        task.moveTo(next);
    }

    /** Writes the task's record (a kill was requested) with its unacknowledged updates. */
    void checkpoint(TaskRecord task) {
        TaskCheckpoint record = record(task);
        if (record != null) {
            updates.checkpoint(task.key, record);
        }
    }

    /** The command of {@code task} runs in {@code container}: RUNNING, and its usage watched. */
    void attach(TaskRecord task, Container container) {
        task.container = container;
        move(task, TaskRecord.Phase.RUNNING);
        usage.watch(container, task.limits, agentId, task.key.framework(), task.key.task());
    }

    /** Starts the task's health checks, if it has any. {@code user}: the task's, or null for the agent's. */
    void startHealthChecks(TaskRecord task, TaskUser user) {
        health.start(task.key, agentId, task.info, task.containerId, task.sandbox, user);
    }

    // ---------------------------------------------------------------- kill a task

    /** KILL_TASK: see the class overview. */
    void kill(MasterMessage.KillTask kill) {
        String frameworkValue = kill.getFrameworkId().getValue();
        String taskValue = kill.getTaskId().getValue();
        LogContext.set(agentId, frameworkValue, taskValue);
        if (frameworkValue.isEmpty() || taskValue.isEmpty()) {
            LOG.warn("Ignored KILL_TASK without a framework or task id");
            return;
        }
        TaskKey key = new TaskKey(FrameworkId.of(frameworkValue), TaskId.of(taskValue));
        TaskRecord task = tasks.get(key);
        if (task == null) {
            if (updates.hasStream(key)) {
                LOG.info("Ignored kill of task {} of framework {}: its end is already being reported", key.task(),
                        key.framework());
                return;
            }
            // The framework must hear back, or it would wait for this task forever.
            LOG.info("Reporting task {} of framework {} as lost: asked to kill a task the agent does not know",
                    key.task(), key.framework());
            reportUnknown(key, TaskState.TASK_LOST, StatusReason.REASON_TASK_UNKNOWN, "Task is unknown to the agent");
            return;
        }
        Duration grace = gracePeriod(kill.hasKillPolicy() ? kill.getKillPolicy() : null, task);
        switch (task.phase()) {
            case LAUNCHING -> {
                move(task, TaskRecord.Phase.TERMINAL);
                task.killRequested = true;
                LOG.info("Task {} of framework {} killed before its command started", key.task(), key.framework());
                report(task, TaskState.TASK_KILLED, StatusReason.REASON_TASK_KILLED_DURING_LAUNCH,
                        "Killed before the command started", StatusSource.SOURCE_AGENT, null);
            }
            case RUNNING -> {
                task.killRequested = true;
                task.killReason = kill.getReason();
                // A restarted agent must finish the kill, not let the task run on.
                checkpoint(task);
                health.stop(key);
                move(task, TaskRecord.Phase.KILLING);
                if (hasCapability(key.framework(), FrameworkInfo.Capability.Type.TASK_KILLING_STATE)) {
                    report(task, TaskState.TASK_KILLING, kill.getReason(), "", StatusSource.SOURCE_EXECUTOR, null);
                }
                metrics.taskKilled();
                LOG.info("Killing task {} of framework {} (pid {}): SIGTERM now, SIGKILL after {} ms", key.task(),
                        key.framework(), task.container.pid(), grace.toMillis());
                containerizer.kill(task.container, grace);
            }
            case KILLING -> {
                LOG.info("Task {} of framework {} is already being killed", key.task(), key.framework());
                // A shorter grace period in the new kill still applies.
                containerizer.kill(task.container, grace);
            }
            case TERMINAL -> LOG.info("Ignored kill of task {} of framework {}: it already ended as {}", key.task(),
                    key.framework(), task.state());
        }
    }

    /** SHUTDOWN_FRAMEWORK: the master removed the framework; its tasks are killed and their streams dropped. */
    void shutdownFramework(MasterMessage.ShutdownFramework shutdown) {
        String frameworkValue = shutdown.getFrameworkId().getValue();
        LogContext.set(agentId, frameworkValue, null);
        if (frameworkValue.isEmpty()) {
            LOG.warn("Ignored SHUTDOWN_FRAMEWORK without a framework id");
            return;
        }
        FrameworkId frameworkId = FrameworkId.of(frameworkValue);
        int dropped = updates.dropFramework(frameworkId);
        int killed = 0;
        for (TaskRecord task : List.copyOf(tasks.values())) {
            if (!task.key.framework().equals(frameworkId)) {
                continue;
            }
            switch (task.phase()) {
                case LAUNCHING, TERMINAL -> {
                    if (task.phase() == TaskRecord.Phase.LAUNCHING) {
                        move(task, TaskRecord.Phase.TERMINAL);
                    }
                    forget(task.key);
                }
                case RUNNING, KILLING -> {
                    health.stop(task.key);
                    task.frameworkRemoved = true;
                    task.killRequested = true;
                    task.killReason = StatusReason.REASON_FRAMEWORK_REMOVED;
                    if (task.phase() == TaskRecord.Phase.RUNNING) {
                        move(task, TaskRecord.Phase.KILLING);
                    }
                    containerizer.kill(task.container, gracePeriod(null, task));
                    killed++;
                }
            }
        }
        forgetFrameworkIfIdle(frameworkId);
        LOG.info("Shut down framework {}: killing {} tasks, dropped {} unacknowledged updates", frameworkId, killed,
                dropped);
    }

    /** FRAMEWORK_MESSAGE: written into the task's sandbox as {@code messages/<n>}. */
    void frameworkMessage(MasterMessage.FrameworkMessage message) {
        String frameworkValue = message.getFrameworkId().getValue();
        String executorValue = message.getExecutorId().getValue();
        LogContext.set(agentId, frameworkValue, executorValue);
        TaskRecord task = frameworkValue.isEmpty() || executorValue.isEmpty()
                ? null
                : tasks.get(new TaskKey(FrameworkId.of(frameworkValue), TaskId.of(executorValue)));
        if (task == null || task.phase() == TaskRecord.Phase.TERMINAL) {
            LOG.warn("Dropped framework message for executor '{}' of framework '{}': no such executor runs here",
                    executorValue, frameworkValue);
            return;
        }
        int n = task.messagesDelivered + 1;
        try {
            Path file = Sandbox.writeMessage(task.sandbox, n, message.getData().toByteArray());
            task.messagesDelivered = n;
            LOG.info("Delivered framework message {} ({} bytes) to task {} as {}", n, message.getData().size(),
                    task.key.task(), file);
        } catch (IOException e) {
            LOG.warn("Cannot deliver framework message to task {}: {}", task.key.task(), e.getMessage());
        }
    }

    /** The status update manager: the task's terminal update was acknowledged, so the task is forgotten. */
    @Override
    public void terminalAcknowledged(TaskKey key) {
        LogContext.set(agentId, key);
        TaskRecord task = tasks.get(key);
        if (task != null && task.phase() != TaskRecord.Phase.TERMINAL) {
            faultHandler.handleFault("terminal update of task " + key + " acknowledged while " + task.phase(), null);
            return;
        }
        LOG.debug("Forgot task {} of framework {}: its terminal update was acknowledged", key.task(), key.framework());
        forget(key);
    }

    // ---------------------------------------------------------------- container events

    /** Hears of the end of the task's container. */
    Containerizer.Listener containerListener(TaskKey key) {
        return new Containerizer.Listener() {
            @Override
            public void exited(Container container, Termination termination) {
                TaskLifecycle.this.exited(key, container, termination);
            }

            @Override
            public void cleanedUp(Container container, boolean clean) {
                TaskLifecycle.this.cleanedUp(container, clean);
            }
        };
    }

    private void cleanedUp(Container container, boolean clean) {
        // A stopping agent did not record how its tasks ended: the next agent needs the container's record
        // (and exit status) to find out.
        if (clean && !stopped) {
            Sandbox.deleteRuntimeDir(config.workDir(), container.id());
        }
    }

    private void exited(TaskKey key, Container container, Termination termination) {
        usage.unwatch(container.id());
        TaskRecord task = tasks.get(key);
        if (task == null || task.container != container) {
            LOG.debug("Container {} of task {} exited after the task was forgotten", container.id(), key);
            return;
        }
        LogContext.set(agentId, key);
        health.stop(key);
        move(task, TaskRecord.Phase.TERMINAL);
        Integer exit = termination.known() ? termination.exitValue() : null;
        if (stopped) {
            // The agent is stopping and killed it; nobody is left to tell.
            LOG.info("Task {} of framework {} killed as the agent stops, exit code {}", key.task(), key.framework(),
                    exit);
            return;
        }
        if (task.limitation == null && termination.oomKills() > 0) {
            task.limitation = Limitation.memory(task.limits, termination.memPeakBytes());
        }
        if (task.limitation != null) {
            LOG.info("Task {} of framework {} failed: {}", key.task(), key.framework(), task.limitation.message());
            report(task, TaskState.TASK_FAILED, task.limitation.reason(), task.limitation.message(),
                    StatusSource.SOURCE_AGENT, exit);
        } else if (task.killRequested) {
            String message = task.killMessage != null ? task.killMessage
                    : termination.killedWith() == Termination.KillSignal.SIGKILL
                            ? "Killed by SIGKILL after grace period"
                            : "Killed by SIGTERM";
            LOG.info("Task {} of framework {} killed ({}), exit code {}", key.task(), key.framework(), message, exit);
            report(task, TaskState.TASK_KILLED, task.killReason, message, StatusSource.SOURCE_EXECUTOR, exit);
        } else if (termination.succeeded()) {
            LOG.info("Task {} of framework {} finished, exit code 0", key.task(), key.framework());
            report(task, TaskState.TASK_FINISHED, StatusReason.REASON_UNSPECIFIED, "Command exited with status 0",
                    StatusSource.SOURCE_EXECUTOR, 0);
        } else {
            LOG.info("Task {} of framework {} failed: {}, exit code {}", key.task(), key.framework(),
                    termination.describe(), exit);
            report(task, TaskState.TASK_FAILED, StatusReason.REASON_COMMAND_FAILED, termination.describe(),
                    StatusSource.SOURCE_EXECUTOR, exit);
        }
    }

    /** The usage monitor: the container outgrew a limit; its task is killed at once. */
    @Override
    public void limitExceeded(Container container, Limitation limitation) {
        for (TaskRecord task : tasks.values()) {
            if (task.container == container) {
                limit(task, limitation);
                return;
            }
        }
    }

    /** Kills the task at once for exceeding a limit; its terminal update says which. */
    private void limit(TaskRecord task, Limitation limitation) {
        if (task.limitation != null || task.phase() == TaskRecord.Phase.TERMINAL || task.container == null) {
            return;
        }
        LogContext.set(agentId, task.key);
        task.limitation = limitation;
        health.stop(task.key);
        LOG.info("Killing task {} of framework {}: {}", task.key.task(), task.key.framework(), limitation.message());
        if (task.phase() == TaskRecord.Phase.RUNNING) {
            move(task, TaskRecord.Phase.KILLING);
        }
        containerizer.kill(task.container, Duration.ZERO);
    }

    // ---------------------------------------------------------------- health

    /** The health monitor: the task became healthy or unhealthy; TASK_RUNNING says so. */
    @Override
    public void healthChanged(TaskKey key, boolean healthy, String detail) {
        TaskRecord task = tasks.get(key);
        if (task == null || task.phase() != TaskRecord.Phase.RUNNING) {
            return;
        }
        LogContext.set(agentId, key);
        task.healthy = healthy;
        LOG.info("Task {} of framework {} is {}: {}", key.task(), key.framework(), healthy ? "healthy" : "unhealthy",
                detail);
        report(task, TaskState.TASK_RUNNING, StatusReason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, detail,
                StatusSource.SOURCE_EXECUTOR, null);
    }

    /** As Mesos: a task that fails its health checks' threshold is killed and reported TASK_KILLED. */
    @Override
    public void failed(TaskKey key, int failures, String detail) {
        TaskRecord task = tasks.get(key);
        if (task == null || task.phase() != TaskRecord.Phase.RUNNING) {
            return;
        }
        LogContext.set(agentId, key);
        task.healthy = false;
        task.killRequested = true;
        task.killReason = StatusReason.REASON_HEALTH_CHECK_FAILED;
        task.killMessage = "Task failed " + failures + " consecutive health checks; the last: " + detail;
        checkpoint(task);
        move(task, TaskRecord.Phase.KILLING);
        if (hasCapability(key.framework(), FrameworkInfo.Capability.Type.TASK_KILLING_STATE)) {
            report(task, TaskState.TASK_KILLING, StatusReason.REASON_HEALTH_CHECK_FAILED, task.killMessage,
                    StatusSource.SOURCE_EXECUTOR, null);
        }
        Duration grace = gracePeriod(null, task);
        LOG.info("Killing task {} of framework {}: {}; SIGKILL after {} ms", key.task(), key.framework(),
                task.killMessage, grace.toMillis());
        containerizer.kill(task.container, grace);
    }

    // ---------------------------------------------------------------- the agent stops

    /**
     * Stops (the agent stops). Tasks of frameworks that do not checkpoint are killed. Those of frameworks
     * that do are killed too when {@link AgentConfig#killTasksOnStop()} (their kill is checkpointed first,
     * so that the next agent reports them TASK_KILLED), else left running for the next agent on this work
     * directory to recover.
     *
     * @return futures completed as the killed processes go away
     */
    List<CompletableFuture<?>> stop() {
        stopped = true;
        int left = 0;
        List<Container> kill = new ArrayList<>();
        for (TaskRecord task : tasks.values()) {
            health.stop(task.key);
            boolean live = task.container != null && !task.container.isExited();
            if (task.checkpoint && !config.killTasksOnStop()) {
                left += live ? 1 : 0;
                continue;
            }
            if (task.checkpoint && task.phase() != TaskRecord.Phase.TERMINAL && !task.killRequested) {
                task.killRequested = true;
                task.killReason = StatusReason.REASON_AGENT_SHUTDOWN;
                checkpoint(task);
            }
            if (live) {
                kill.add(task.container);
            }
        }
        updates.clear();
        if (left > 0) {
            LOG.info("Leaving {} tasks of checkpointing frameworks running for the next agent on {}", left,
                    config.workDir());
        }
        return containerizer.destroy(kill);
    }

    // ---------------------------------------------------------------- helpers

    /** The grace period between SIGTERM and SIGKILL: the kill's, else the task's, else the agent's default. */
    Duration gracePeriod(KillPolicy fromKill, TaskRecord task) {
        if (fromKill != null && fromKill.hasGracePeriod()) {
            return Duration.ofNanos(Math.max(0, fromKill.getGracePeriod().getNanoseconds()));
        }
        if (task.info.hasKillPolicy() && task.info.getKillPolicy().hasGracePeriod()) {
            return Duration.ofNanos(Math.max(0, task.info.getKillPolicy().getGracePeriod().getNanoseconds()));
        }
        return config.defaultKillGracePeriod();
    }

    /** {@code state} for a PARTITION_AWARE framework, TASK_LOST for others (as the master translates). */
    TaskState partitionAware(FrameworkId framework, TaskState state) {
        return hasCapability(framework, FrameworkInfo.Capability.Type.PARTITION_AWARE) ? state : TaskState.TASK_LOST;
    }

    private boolean hasCapability(FrameworkId framework, FrameworkInfo.Capability.Type capability) {
        FrameworkInfo info = frameworks.get(framework);
        return info != null && info.getCapabilitiesList().stream().anyMatch(c -> c.getType() == capability);
    }

    /** The task's record for its checkpoint, or null when its framework does not checkpoint. */
    private TaskCheckpoint record(TaskRecord task) {
        return task.checkpoint && agentId != null ? task.record(agentId) : null;
    }

    private TaskStatus.Builder status(TaskKey key, TaskRecord task, TaskState state) {
        TaskStatus.Builder status = TaskStatus.newBuilder()
                .setTaskId(key.task().toProto())
                .setState(state)
                .setExecutorId(ExecutorID.newBuilder().setValue(key.task().value()));
        if (agentId != null) {
            status.setAgentId(agentId.toProto());
        }
        if (task != null) {
            status.setContainerId(task.containerId.toProto());
            if (task.healthy != null) {
                status.setHealthy(task.healthy);
            }
            if (task.info.hasLabels()) {
                status.setLabels(task.info.getLabels());
            }
        }
        return status;
    }

    private void forget(TaskKey key) {
        TaskRecord task = tasks.remove(key);
        health.stop(key);
        if (task != null) {
            if (task.container != null) {
                usage.unwatch(task.container.id());
            }
            gc.schedule(task.sandbox, loop.clock().millis());
        }
        if (task != null && task.checkpoint) {
            checkpointer.forgetTask(key.framework(), key.task());
        }
        forgetFrameworkIfIdle(key.framework());
    }

    private void forgetFrameworkIfIdle(FrameworkId framework) {
        boolean busy = tasks.keySet().stream().anyMatch(k -> k.framework().equals(framework));
        if (!busy) {
            frameworks.remove(framework);
        }
    }
}

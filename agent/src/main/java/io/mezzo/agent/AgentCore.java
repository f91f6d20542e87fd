package io.mezzo.agent;

import io.mezzo.agent.checkpoint.CheckpointStore;
import io.mezzo.agent.checkpoint.Checkpointer;
import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.DiskUsage;
import io.mezzo.agent.containerizer.UsageMonitor;
import io.mezzo.agent.fetcher.Fetcher;
import io.mezzo.agent.gc.SandboxGc;
import io.mezzo.agent.link.MasterLink;
import io.mezzo.agent.resources.ReservationManager;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.validation.Redaction;
import io.mezzo.proto.v1.AgentCheckpoint;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusUpdate;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's core: the owner of everything on the agent's event loop, and the dispatcher that hands
 * each of the master's messages, timers and lifecycle steps to the class that owns the concern.
 *
 * <pre>
 *   MasterLink.Handler                    owner of the concern
 *   ------------------                    --------------------
 *   registered / disconnected        ->   here: agent id checkpointed, StatusUpdateManager resumed / paused
 *   RUN_TASK                         ->   TaskLauncher
 *   KILL_TASK, SHUTDOWN_FRAMEWORK,
 *   FRAMEWORK_MESSAGE                ->   TaskLifecycle
 *   CHECKPOINT_RESOURCES             ->   ReservationManager
 *   (STATUS_UPDATE_ACK goes from the link straight to the StatusUpdateManager)
 *   timers "usage", "disk"           ->   UsageMonitor (and SandboxGc for the work directory's disk)
 *   start: recover                   ->   AgentRecovery
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Once stopped, no message is handled and no timer does any work.
 *   <li>The agent's id is checkpointed at every (re)registration, whatever the frameworks ask, before
 *       the held status updates go out again.
 *   <li>Bad input from the master is logged once at WARN (by the class that owns it) and answered with
 *       an update where the framework waits for one, never thrown.
 * </ol>
 *
 * <p>Hard state (for frameworks that checkpoint) lives with its owners: the agent's id here, the tasks in
 * {@link TaskLifecycle}, their update streams in the {@link StatusUpdateManager}, the reservations in the
 * {@link ReservationManager}, all under {@code <work_dir>/meta} and rebuilt by {@link AgentRecovery}.
 * Soft state here: the agent's description, the master it is registered with.
 *
 * <p>Thread: the agent's event loop only. Owner: {@link Agent}.
 */
final class AgentCore implements MasterLink.Handler {

    /** What the agent object wants to hear. Called on the loop thread. */
    interface Listener {
        /** The master (re)registered the agent under {@code id}. */
        void registered(AgentId id);

        /** The master sent SHUTDOWN: the agent must stop. */
        void shutdownRequested(String reason);
    }

    private static final Logger LOG = LoggerFactory.getLogger(AgentCore.class);
    private static final String USAGE_TIMER = "usage";
    private static final String DISK_TIMER = "disk";

    private final AgentConfig config;
    private final EventLoop loop;
    private final StatusUpdateManager updates;
    private final Listener listener;
    private final String bootId;
    private final Checkpointer checkpointer;
    private final SandboxGc gc;
    private final ReservationManager reservations;
    private final TaskLifecycle tasks;
    private final TaskLauncher launcher;
    private final AgentRecovery recovery;

    // Soft state.
    private AgentInfo agentInfo = AgentInfo.getDefaultInstance();
    private MasterInfo master;
    private boolean registered;

    /**
     * @param loop the agent's loop: a launch runs as its own event after TASK_STARTING (so that a
     *     KILL_TASK already queued can still stop it), and usage sampling runs on its timers
     * @param workers runs blocking work (user lookups, sandboxes, sampling) off the loop
     */
    AgentCore(
            AgentConfig config,
            EventLoop loop,
            Containerizer containerizer,
            StatusUpdateManager updates,
            Executor workers,
            CheckpointStore store,
            String bootId,
            Fetcher fetcher,
            Listener listener,
            AgentMetrics metrics) {
        this.config = config;
        this.loop = loop;
        this.updates = updates;
        this.listener = listener;
        this.bootId = bootId;
        this.checkpointer = new Checkpointer(store);
        this.gc = new SandboxGc(loop, workers, config.gcDelay(), config.gcDiskWatermark(), config.workDir(),
                DiskUsage::fileSystemUsage);
        this.reservations = new ReservationManager(checkpointer);
        updates.streamCheckpoint((key, record) -> checkpointer.task(key.framework(), key.task(), record));
        this.tasks = new TaskLifecycle(config, loop, containerizer, updates, workers, gc, checkpointer, metrics);
        metrics.watch(loop, updates, fetcher, gc, tasks.usage(), checkpointer);
        this.launcher = new TaskLauncher(config, loop, containerizer, fetcher, workers, checkpointer, bootId, tasks);
        this.recovery = new AgentRecovery(config, loop, containerizer, workers, store, bootId, tasks, launcher,
                updates, reservations);
    }

    /**
     * Rebuilds the agent from what a previous agent on this work directory left. Loop thread, before the
     * master link starts.
     */
    AgentRecovery.Result recover(CheckpointStore.Recovered left, AgentConfig.RecoverMode mode) {
        return recovery.recover(left, mode);
    }

    /**
     * Starts the periodic usage sampling and disk measurements, and schedules the removal of sandboxes
     * no task of this agent uses. Loop thread, after {@link #recover}.
     */
    void start() {
        loop.schedule(USAGE_TIMER, config.usageInterval(), this::sampleUsage);
        loop.schedule(DISK_TIMER, config.diskWatchInterval(), this::measureDisk);
        Set<Path> live = new HashSet<>();
        tasks.tasks().forEach(t -> live.add(t.sandbox));
        gc.scheduleExisting(live);
    }

    /** Sets the agent's description (known once its server is bound). Before the link starts. */
    void agentInfo(AgentInfo info) {
        this.agentInfo = info;
        reservations.baseTotal(Resources.fromProto(info.getResourcesList()));
    }

    // ---------------------------------------------------------------- MasterLink.Handler

    /** The agent's description, its total resources with the checkpointed dynamic reservations applied. */
    @Override
    public AgentInfo agentInfo() {
        return agentInfo.toBuilder().clearResources().addAllResources(total().toProto()).build();
    }

    /** The total the agent reports: what it has, with its dynamic reservations applied. */
    Resources total() {
        return reservations.total();
    }

    @Override
    public AgentMessage.Reregister reregistration(AgentInfo info) {
        AgentMessage.Reregister.Builder body = AgentMessage.Reregister.newBuilder().setAgentInfo(info);
        Set<FrameworkId> withTasks = new LinkedHashSet<>();
        for (TaskRecord r : tasks.tasks()) {
            withTasks.add(r.key.framework());
            body.addTasks(r.toProto(tasks.agentId()));
        }
        for (FrameworkId id : withTasks) {
            FrameworkInfo framework = tasks.framework(id);
            if (framework != null) {
                body.addFrameworks(framework);
            }
        }
        body.addAllUnacknowledgedUpdates(updates.pending());
        return body.build();
    }

    @Override
    public void registered(AgentId id, MasterInfo master, boolean reregistered) {
        tasks.agentId(id);
        this.master = master;
        this.registered = true;
        LogContext.set(id, null, null);
        // Invariant 2: always, whatever the frameworks ask: a restarted agent re-registers under this id.
        checkpointer.agent(id, AgentCheckpoint.newBuilder()
                .setAgentInfo(agentInfo().toBuilder().setId(id.toProto()))
                .setBootId(bootId)
                .build());
        listener.registered(id);
        // Every task's head update goes out again now.
        updates.resume();
    }

    @Override
    public void disconnected() {
        registered = false;
        updates.pause();
    }

    @Override
    public void message(MasterMessage message) {
        if (tasks.stopped()) {
            return;
        }
        switch (message.getType()) {
            case RUN_TASK -> launcher.run(message.getRunTask());
            case KILL_TASK -> tasks.kill(message.getKillTask());
            case SHUTDOWN_FRAMEWORK -> tasks.shutdownFramework(message.getShutdownFramework());
            case FRAMEWORK_MESSAGE -> tasks.frameworkMessage(message.getFrameworkMessage());
            case CHECKPOINT_RESOURCES -> {
                LogContext.set(tasks.agentId(), null, null);
                reservations.checkpoint(message.getCheckpointResources());
            }
            default -> LOG.warn("Ignored master message {}: not a task message", message.getType());
        }
    }

    @Override
    public void shutdown(String reason) {
        LogContext.set(tasks.agentId(), null, null);
        LOG.warn("Master shut the agent down ({}); killing {} tasks and stopping", reason, tasks.tasks().size());
        listener.shutdownRequested(reason);
    }

    // ---------------------------------------------------------------- timers

    /** Samples every running container, then enforces memory limits. Timer. */
    private void sampleUsage() {
        loop.schedule(USAGE_TIMER, config.usageInterval(), this::sampleUsage);
        if (tasks.stopped()) {
            return;
        }
        tasks.usage().sample();
    }

    /** Lets the sandbox GC check the work directory's disk, then measures every running sandbox. Timer. */
    private void measureDisk() {
        loop.schedule(DISK_TIMER, config.diskWatchInterval(), this::measureDisk);
        if (tasks.stopped()) {
            return;
        }
        gc.checkDisk();
        tasks.usage().measureDisk();
    }

    // ---------------------------------------------------------------- agent lifecycle and queries

    /**
     * Stops handling messages (the agent stops); see {@link TaskLifecycle#stop()} for which tasks are
     * killed.
     *
     * @return futures completed as the killed processes go away
     */
    List<CompletableFuture<?>> stop() {
        return tasks.stop();
    }

    /** The agent's state for the operator API, with secrets redacted ({@link Redaction}). */
    GetAgentStateResponse state() {
        AgentId agentId = tasks.agentId();
        AgentInfo.Builder info = agentInfo.toBuilder();
        if (agentId != null) {
            info.setId(agentId.toProto());
        }
        GetAgentStateResponse.Builder state = GetAgentStateResponse.newBuilder()
                .setAgentInfo(info)
                .setRegistered(registered)
                .setWorkDir(config.workDir().toString());
        if (registered && master != null) {
            state.setMasterInfo(master);
        }
        for (TaskRecord task : tasks.tasks()) {
            // Environment values and task data may be secrets: never in a view.
            state.addTasks(Redaction.task(task.toProto(agentId)));
        }
        return state.build();
    }

    /**
     * The running containers as the operator API shows them, copied on the loop; the caller samples them
     * off the loop ({@link UsageMonitor#status}).
     */
    List<UsageMonitor.ContainerView> containers() {
        return tasks.usage().snapshot();
    }

    /** The task, if the agent still has it. For tests. */
    TaskRecord task(TaskKey key) {
        return tasks.task(key);
    }

    /** Tasks the agent has. For tests. */
    List<TaskRecord> tasks() {
        return tasks.tasks();
    }

    /** Unacknowledged updates of every task. For tests. */
    List<StatusUpdate> pendingUpdates() {
        return updates.pending();
    }

    /** Sandboxes waiting for removal. For tests. */
    int sandboxesToCollect() {
        return gc.size();
    }

    /** Bytes the task's sandbox held when last measured, 0 before. For tests. */
    long diskUsed(TaskKey key) {
        TaskRecord task = tasks.task(key);
        return task == null ? 0 : tasks.usage().diskUsed(task.containerId);
    }
}

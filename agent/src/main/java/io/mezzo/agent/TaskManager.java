package io.mezzo.agent;

import io.mezzo.agent.containerizer.Container;
import io.mezzo.agent.containerizer.ContainerLaunchException;
import io.mezzo.agent.containerizer.LaunchSpec;
import io.mezzo.agent.containerizer.PosixContainerizer;
import io.mezzo.agent.containerizer.Sandbox;
import io.mezzo.agent.containerizer.TaskEnvironment;
import io.mezzo.agent.containerizer.Termination;
import io.mezzo.agent.link.MasterLink;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The agent's core: owns its frameworks and tasks and turns the master's task messages into sandboxes,
 * processes and status updates.
 *
 * <pre>
 *   RUN_TASK -> validate -> TASK_STARTING -> (next event) sandbox + spawn -> TASK_RUNNING
 *   process exit -> TASK_FINISHED / TASK_FAILED / TASK_KILLED
 *   KILL_TASK -> [TASK_KILLING] -> SIGTERM group ... grace ... SIGKILL -> exit -> TASK_KILLED
 *   STATUS_UPDATE_ACK -> next update; terminal one acknowledged -> task forgotten
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A task is in {@code tasks} from RUN_TASK until its terminal update is acknowledged (or its
 *       framework is shut down); a second RUN_TASK for it is ignored.
 *   <li>Every update of a known task goes through the status update manager, so it reaches the master
 *       in order and is retried until acknowledged; only tasks of a framework the master removed get a
 *       single, unretried terminal update.
 *   <li>Task phase changes follow {@link TaskRecord.Phase}; an illegal one goes to the fault handler.
 *   <li>Bad input from the master is logged once at WARN and answered with an update, never thrown.
 * </ol>
 *
 * <p>All state is soft: an agent restart forgets every task.
 *
 * <p>Thread: the agent's event loop only. Owner: {@link Agent}.
 */
final class TaskManager implements MasterLink.Handler {

    /** What the agent object wants to hear. Called on the loop thread. */
    interface Listener {
        /** The master (re)registered the agent under {@code id}. */
        void registered(AgentId id);

        /** The master sent SHUTDOWN: the agent must stop. */
        void shutdownRequested(String reason);
    }

    private static final Logger LOG = LoggerFactory.getLogger(TaskManager.class);

    private final AgentConfig config;
    private final PosixContainerizer containerizer;
    private final StatusUpdateManager updates;
    private final Consumer<Runnable> later;
    private final Listener listener;
    private final FaultHandler faultHandler;

    private AgentInfo agentInfo = AgentInfo.getDefaultInstance();
    private AgentId agentId;
    private MasterInfo master;
    private boolean registered;
    private boolean stopped;
    private final Map<FrameworkId, FrameworkInfo> frameworks = new LinkedHashMap<>();
    private final Map<TaskKey, TaskRecord> tasks = new LinkedHashMap<>();

    /**
     * @param later appends an event to the agent's loop (a launch runs as its own event after
     *     TASK_STARTING, so that a KILL_TASK already queued can still stop it)
     */
    TaskManager(
            AgentConfig config,
            PosixContainerizer containerizer,
            StatusUpdateManager updates,
            Consumer<Runnable> later,
            Listener listener) {
        this.config = config;
        this.containerizer = containerizer;
        this.updates = updates;
        this.later = later;
        this.listener = listener;
        this.faultHandler = config.faultHandler();
    }

    /** Sets the agent's description (known once its server is bound). Before the link starts. */
    void agentInfo(AgentInfo info) {
        this.agentInfo = info;
    }

    // ---------------------------------------------------------------- MasterLink.Handler

    @Override
    public AgentInfo agentInfo() {
        return agentInfo;
    }

    @Override
    public AgentMessage.Reregister reregistration(AgentInfo info) {
        AgentMessage.Reregister.Builder body = AgentMessage.Reregister.newBuilder().setAgentInfo(info);
        Set<FrameworkId> withTasks = new LinkedHashSet<>();
        for (TaskRecord r : tasks.values()) {
            withTasks.add(r.key.framework());
            body.addTasks(r.toProto(agentId));
        }
        for (FrameworkId id : withTasks) {
            FrameworkInfo framework = frameworks.get(id);
            if (framework != null) {
                body.addFrameworks(framework);
            }
        }
        body.addAllUnacknowledgedUpdates(updates.pending());
        return body.build();
    }

    @Override
    public void registered(AgentId id, MasterInfo master, boolean reregistered) {
        this.agentId = id;
        this.master = master;
        this.registered = true;
        MDC.put("agent", id.value());
        listener.registered(id);
        // Every task's head update goes out again now (invariant 2).
        updates.resume();
    }

    @Override
    public void disconnected() {
        registered = false;
        updates.pause();
    }

    @Override
    public void message(MasterMessage message) {
        if (stopped) {
            return;
        }
        switch (message.getType()) {
            case RUN_TASK -> runTask(message.getRunTask());
            case KILL_TASK -> killTask(message.getKillTask());
            case STATUS_UPDATE_ACK -> acknowledge(message.getStatusUpdateAck());
            case SHUTDOWN_FRAMEWORK -> shutdownFramework(message.getShutdownFramework());
            case FRAMEWORK_MESSAGE -> frameworkMessage(message.getFrameworkMessage());
            default -> LOG.warn("Ignored master message {}: not a task message", message.getType());
        }
    }

    @Override
    public void shutdown(String reason) {
        mdc(null, null);
        LOG.warn("Master shut the agent down ({}); killing {} tasks and stopping", reason, tasks.size());
        listener.shutdownRequested(reason);
    }

    // ---------------------------------------------------------------- task messages

    private void runTask(MasterMessage.RunTask run) {
        String frameworkValue = run.getFramework().getId().getValue();
        String taskValue = run.getTask().getTaskId().getValue();
        mdc(frameworkValue, taskValue);
        if (agentId == null) {
            LOG.warn("Ignored RUN_TASK for task {} of framework {}: the agent has no id yet", taskValue, frameworkValue);
            return;
        }
        String error = RunTaskValidation.validate(run, agentId);
        if (error != null) {
            LOG.warn("Refused task {} of framework {}: {}", taskValue, frameworkValue, error);
            if (!frameworkValue.isEmpty() && !taskValue.isEmpty()) {
                TaskKey key = new TaskKey(FrameworkId.of(frameworkValue), TaskId.of(taskValue));
                if (!tasks.containsKey(key) && !updates.hasStream(key)) {
                    updates.add(key.framework(), status(key, null, TaskState.TASK_ERROR)
                            .setReason(StatusReason.REASON_TASK_INVALID)
                            .setMessage(error)
                            .setSource(StatusSource.SOURCE_AGENT)
                            .build());
                }
            }
            return;
        }
        FrameworkId frameworkId = FrameworkId.of(frameworkValue);
        TaskKey key = new TaskKey(frameworkId, TaskId.of(taskValue));
        if (tasks.containsKey(key) || updates.hasStream(key)) {
            LOG.warn("Ignored RUN_TASK for task {} of framework {}: the agent already has it", key.task(),
                    frameworkId);
            return;
        }
        if (run.getTask().getCommand().getUrisCount() > 0 || run.getTask().hasHealthCheck()) {
            // Accepted, so that the task still runs, but its author should know what the agent skipped.
            LOG.warn("Task {} of framework {} asks for {} URIs to fetch and {} health check; this agent supports"
                            + " neither and runs the command without them", key.task(), frameworkId,
                    run.getTask().getCommand().getUrisCount(), run.getTask().hasHealthCheck() ? "a" : "no");
        }
        frameworks.put(frameworkId, run.getFramework());
        ContainerId containerId = ContainerId.of(UUID.randomUUID().toString());
        Path sandbox = Sandbox.path(config.workDir(), agentId, frameworkId, key.task(), containerId);
        TaskRecord task = new TaskRecord(key, run.getTask(), containerId, sandbox);
        tasks.put(key, task);
        update(task, TaskState.TASK_STARTING, StatusReason.REASON_UNSPECIFIED, "", StatusSource.SOURCE_EXECUTOR, null);
        later.accept(() -> launch(key, containerId));
    }

    private void launch(TaskKey key, ContainerId containerId) {
        TaskRecord task = tasks.get(key);
        if (stopped || task == null || task.phase != TaskRecord.Phase.LAUNCHING || !task.containerId.equals(containerId)) {
            // Killed (or its framework shut down) before this event ran.
            return;
        }
        mdc(key.framework().value(), key.task().value());
        String failure;
        try {
            Sandbox.create(task.sandbox);
            LaunchSpec spec = new LaunchSpec(
                    containerId,
                    task.sandbox,
                    task.info.getCommand(),
                    TaskEnvironment.build(containerizer.agentEnvironment(), agentId, key.framework(), task.info,
                            containerId, task.sandbox));
            Container container = containerizer.launch(spec, (c, termination) -> exited(key, c, termination));
            task.container = container;
            move(task, TaskRecord.Phase.RUNNING);
            update(task, TaskState.TASK_RUNNING, StatusReason.REASON_UNSPECIFIED, "", StatusSource.SOURCE_EXECUTOR,
                    null);
            LOG.info("Launched task {} of framework {} as pid {} in {}", key.task(), key.framework(), container.pid(),
                    task.sandbox);
            return;
        } catch (IOException e) {
            failure = "Cannot create the sandbox " + task.sandbox + ": " + e.getMessage();
        } catch (ContainerLaunchException e) {
            failure = e.getMessage();
        }
        LOG.warn("Failed to launch task {} of framework {}: {}", key.task(), key.framework(), failure);
        move(task, TaskRecord.Phase.TERMINAL);
        update(task, TaskState.TASK_FAILED, StatusReason.REASON_CONTAINER_LAUNCH_FAILED, failure,
                StatusSource.SOURCE_AGENT, null);
    }

    private void exited(TaskKey key, Container container, Termination termination) {
        TaskRecord task = tasks.get(key);
        if (task == null || task.container != container) {
            LOG.debug("Container {} of task {} exited after the task was forgotten", container.id(), key);
            return;
        }
        mdc(key.framework().value(), key.task().value());
        move(task, TaskRecord.Phase.TERMINAL);
        int exit = termination.exitValue();
        if (stopped) {
            // The agent is stopping and killed it; nobody is left to tell.
            LOG.info("Task {} of framework {} killed as the agent stops, exit code {}", key.task(), key.framework(),
                    exit);
            return;
        }
        if (task.killRequested) {
            String message = termination.killedWith() == Termination.KillSignal.SIGKILL
                    ? "Killed by SIGKILL after grace period"
                    : "Killed by SIGTERM";
            LOG.info("Task {} of framework {} killed ({}), exit code {}", key.task(), key.framework(), message, exit);
            terminal(task, TaskState.TASK_KILLED, task.killReason, message, exit);
        } else if (termination.succeeded()) {
            LOG.info("Task {} of framework {} finished, exit code 0", key.task(), key.framework());
            terminal(task, TaskState.TASK_FINISHED, StatusReason.REASON_UNSPECIFIED, "Command exited with status 0", 0);
        } else {
            LOG.info("Task {} of framework {} failed: {}, exit code {}", key.task(), key.framework(),
                    termination.describe(), exit);
            terminal(task, TaskState.TASK_FAILED, StatusReason.REASON_COMMAND_FAILED, termination.describe(), exit);
        }
    }

    private void terminal(TaskRecord task, TaskState state, StatusReason reason, String message, int exitCode) {
        if (task.frameworkRemoved) {
            // Nobody will acknowledge it: tell the master once and forget the task (invariant 2).
            TaskStatus status = status(task.key, task, state)
                    .setReason(reason)
                    .setMessage(message)
                    .setSource(StatusSource.SOURCE_EXECUTOR)
                    .setExitCode(exitCode)
                    .build();
            task.state = state;
            task.latestStatus = updates.sendOnce(task.key.framework(), status).getStatus();
            forget(task.key);
            return;
        }
        update(task, state, reason, message, StatusSource.SOURCE_EXECUTOR, exitCode);
    }

    private void killTask(MasterMessage.KillTask kill) {
        String frameworkValue = kill.getFrameworkId().getValue();
        String taskValue = kill.getTaskId().getValue();
        mdc(frameworkValue, taskValue);
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
            updates.add(key.framework(), status(key, null, TaskState.TASK_LOST)
                    .setReason(StatusReason.REASON_TASK_UNKNOWN)
                    .setMessage("Task is unknown to the agent")
                    .setSource(StatusSource.SOURCE_AGENT)
                    .build());
            return;
        }
        Duration grace = gracePeriod(kill.hasKillPolicy() ? kill.getKillPolicy() : null, task);
        switch (task.phase) {
            case LAUNCHING -> {
                move(task, TaskRecord.Phase.TERMINAL);
                task.killRequested = true;
                LOG.info("Task {} of framework {} killed before its command started", key.task(), key.framework());
                update(task, TaskState.TASK_KILLED, StatusReason.REASON_TASK_KILLED_DURING_LAUNCH,
                        "Killed before the command started", StatusSource.SOURCE_AGENT, null);
            }
            case RUNNING -> {
                task.killRequested = true;
                task.killReason = kill.getReason();
                move(task, TaskRecord.Phase.KILLING);
                if (hasCapability(key.framework(), FrameworkInfo.Capability.Type.TASK_KILLING_STATE)) {
                    update(task, TaskState.TASK_KILLING, kill.getReason(), "", StatusSource.SOURCE_EXECUTOR, null);
                }
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
                    key.framework(), task.state);
        }
    }

    private void acknowledge(MasterMessage.StatusUpdateAck ack) {
        String frameworkValue = ack.getFrameworkId().getValue();
        String taskValue = ack.getTaskId().getValue();
        mdc(frameworkValue, taskValue);
        if (frameworkValue.isEmpty() || taskValue.isEmpty()) {
            LOG.warn("Ignored STATUS_UPDATE_ACK without a framework or task id");
            return;
        }
        TaskKey key = new TaskKey(FrameworkId.of(frameworkValue), TaskId.of(taskValue));
        if (updates.acknowledge(key, ack.getUuid()) == StatusUpdateManager.AckResult.TERMINAL_ACKNOWLEDGED) {
            TaskRecord task = tasks.get(key);
            if (task != null && task.phase != TaskRecord.Phase.TERMINAL) {
                faultHandler.handleFault("terminal update of task " + key + " acknowledged while " + task.phase, null);
                return;
            }
            LOG.debug("Forgot task {} of framework {}: its terminal update was acknowledged", key.task(),
                    key.framework());
            forget(key);
        }
    }

    private void shutdownFramework(MasterMessage.ShutdownFramework shutdown) {
        String frameworkValue = shutdown.getFrameworkId().getValue();
        mdc(frameworkValue, null);
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
            switch (task.phase) {
                case LAUNCHING, TERMINAL -> {
                    if (task.phase == TaskRecord.Phase.LAUNCHING) {
                        move(task, TaskRecord.Phase.TERMINAL);
                    }
                    forget(task.key);
                }
                case RUNNING, KILLING -> {
                    task.frameworkRemoved = true;
                    task.killRequested = true;
                    task.killReason = StatusReason.REASON_FRAMEWORK_REMOVED;
                    if (task.phase == TaskRecord.Phase.RUNNING) {
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

    private void frameworkMessage(MasterMessage.FrameworkMessage message) {
        String frameworkValue = message.getFrameworkId().getValue();
        String executorValue = message.getExecutorId().getValue();
        mdc(frameworkValue, executorValue);
        TaskRecord task = frameworkValue.isEmpty() || executorValue.isEmpty()
                ? null
                : tasks.get(new TaskKey(FrameworkId.of(frameworkValue), TaskId.of(executorValue)));
        if (task == null || task.phase == TaskRecord.Phase.TERMINAL) {
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

    // ---------------------------------------------------------------- agent lifecycle and queries

    /**
     * Kills every container with SIGKILL and stops handling messages (the agent stops).
     *
     * @return futures completed as the killed processes go away
     */
    List<CompletableFuture<?>> stop() {
        stopped = true;
        updates.clear();
        return containerizer.destroyAll();
    }

    /** The agent's state for the operator API. */
    GetAgentStateResponse state() {
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
        for (TaskRecord task : tasks.values()) {
            state.addTasks(task.toProto(agentId));
        }
        return state.build();
    }

    /** The task, if the agent still has it. For tests. */
    TaskRecord task(TaskKey key) {
        return tasks.get(key);
    }

    /** Tasks the agent has. For tests. */
    List<TaskRecord> tasks() {
        return new ArrayList<>(tasks.values());
    }

    // ---------------------------------------------------------------- helpers

    private void update(
            TaskRecord task, TaskState state, StatusReason reason, String message, StatusSource source,
            Integer exitCode) {
        TaskStatus.Builder status = status(task.key, task, state)
                .setReason(reason)
                .setMessage(message)
                .setSource(source);
        if (exitCode != null) {
            status.setExitCode(exitCode);
        }
        StatusUpdate queued = updates.add(task.key.framework(), status.build());
        task.state = state;
        task.latestStatus = queued.getStatus();
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
            if (task.info.hasLabels()) {
                status.setLabels(task.info.getLabels());
            }
        }
        return status;
    }

    private Duration gracePeriod(KillPolicy fromKill, TaskRecord task) {
        if (fromKill != null && fromKill.hasGracePeriod()) {
            return Duration.ofNanos(Math.max(0, fromKill.getGracePeriod().getNanoseconds()));
        }
        if (task.info.hasKillPolicy() && task.info.getKillPolicy().hasGracePeriod()) {
            return Duration.ofNanos(Math.max(0, task.info.getKillPolicy().getGracePeriod().getNanoseconds()));
        }
        return config.defaultKillGracePeriod();
    }

    private boolean hasCapability(FrameworkId framework, FrameworkInfo.Capability.Type capability) {
        FrameworkInfo info = frameworks.get(framework);
        return info != null && info.getCapabilitiesList().stream().anyMatch(c -> c.getType() == capability);
    }

    private void move(TaskRecord task, TaskRecord.Phase next) {
        if (!task.canMoveTo(next)) {
            faultHandler.handleFault("illegal transition of task " + task.key + ": " + task.phase + " -> " + next,
                    null);
        }
        task.phase = next;
    }

    private void forget(TaskKey key) {
        tasks.remove(key);
        forgetFrameworkIfIdle(key.framework());
    }

    private void forgetFrameworkIfIdle(FrameworkId framework) {
        boolean busy = tasks.keySet().stream().anyMatch(k -> k.framework().equals(framework));
        if (!busy) {
            frameworks.remove(framework);
        }
    }

    private void mdc(String framework, String task) {
        if (agentId != null) {
            MDC.put("agent", agentId.value());
        }
        if (framework != null && !framework.isEmpty()) {
            MDC.put("framework", framework);
        }
        if (task != null && !task.isEmpty()) {
            MDC.put("task", task);
        }
    }
}

package io.mezzo.agent;

import io.mezzo.agent.checkpoint.CheckpointStore;
import io.mezzo.agent.containerizer.Container;
import io.mezzo.agent.containerizer.ContainerLaunchException;
import io.mezzo.agent.containerizer.DiskUsage;
import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.LaunchSpec;
import io.mezzo.agent.containerizer.LauncherScript;
import io.mezzo.agent.containerizer.Sandbox;
import io.mezzo.agent.containerizer.TaskEnvironment;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.agent.containerizer.Termination;
import io.mezzo.agent.containerizer.UsageSample;
import io.mezzo.agent.fetcher.FetchException;
import io.mezzo.agent.fetcher.Fetcher;
import io.mezzo.agent.gc.SandboxGc;
import io.mezzo.agent.health.HealthChecker;
import io.mezzo.agent.health.HealthProbes;
import io.mezzo.agent.link.MasterLink;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.task.TaskStates;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AgentCheckpoint;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.CommandURI;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.ContainerStatus;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.ResourceStatistics;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.ResourcesCheckpoint;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskCheckpoint;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
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
 * <p>Hard state, for frameworks that checkpoint: the agent's id, the frameworks, each task with its update
 * stream, each container's launcher, the dynamic reservations, written under {@code <work_dir>/meta}
 * before they are acted on, and rebuilt by {@link #recover} when an agent restarts on the same work
 * directory. Everything else (usage samples, health, timers) is soft and starts again.
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
    private static final String USAGE_TIMER = "usage";
    private static final String DISK_TIMER = "disk";
    private static final long MB = 1024L * 1024L;

    private final AgentConfig config;
    private final EventLoop loop;
    private final Containerizer containerizer;
    private final StatusUpdateManager updates;
    private final Executor workers;
    private final Listener listener;
    private final FaultHandler faultHandler;
    private final boolean agentIsRoot = TaskUser.agentIsRoot();
    private final CheckpointStore store;
    private final String bootId;
    private final Fetcher fetcher;
    private final SandboxGc gc;

    private AgentInfo agentInfo = AgentInfo.getDefaultInstance();
    private Resources baseTotal = Resources.EMPTY;
    // Hard state (meta/resources.info): the master's last CHECKPOINT_RESOURCES.
    private Resources reservations = Resources.EMPTY;
    private boolean reservationsDoNotFit;
    private AgentId agentId;
    private MasterInfo master;
    private boolean registered;
    private boolean stopped;
    private final Map<FrameworkId, FrameworkInfo> frameworks = new LinkedHashMap<>();
    private final Map<TaskKey, TaskRecord> tasks = new LinkedHashMap<>();
    private boolean sampling;
    private boolean measuringDisk;

    /**
     * @param loop the agent's loop: a launch runs as its own event after TASK_STARTING (so that a
     *     KILL_TASK already queued can still stop it), and usage sampling runs on its timers
     * @param workers runs blocking work (user lookups, sandboxes, sampling) off the loop
     */
    TaskManager(
            AgentConfig config,
            EventLoop loop,
            Containerizer containerizer,
            StatusUpdateManager updates,
            Executor workers,
            CheckpointStore store,
            String bootId,
            Fetcher fetcher,
            Listener listener) {
        this.config = config;
        this.loop = loop;
        this.containerizer = containerizer;
        this.updates = updates;
        this.workers = workers;
        this.store = store;
        this.bootId = bootId;
        this.fetcher = fetcher;
        this.listener = listener;
        this.gc = new SandboxGc(loop, workers, config.gcDelay(), config.gcDiskWatermark(), config.workDir(),
                DiskUsage::fileSystemUsage);
        this.faultHandler = config.faultHandler();
        updates.journal(this::journal);
    }

    /**
     * Starts the periodic usage sampling and disk measurements, and schedules the removal of sandboxes
     * no task of this agent uses. Loop thread, after {@link #recover}.
     */
    void start() {
        loop.schedule(USAGE_TIMER, config.usageInterval(), this::sampleUsage);
        loop.schedule(DISK_TIMER, config.diskWatchInterval(), this::measureDisk);
        Set<Path> live = new java.util.HashSet<>();
        tasks.values().forEach(t -> live.add(t.sandbox));
        gc.scheduleExisting(live);
    }

    /** Sets the agent's description (known once its server is bound). Before the link starts. */
    void agentInfo(AgentInfo info) {
        this.agentInfo = info;
        this.baseTotal = Resources.fromProto(info.getResourcesList());
    }

    // ---------------------------------------------------------------- MasterLink.Handler

    /** The agent's description, its total resources with the checkpointed dynamic reservations applied. */
    @Override
    public AgentInfo agentInfo() {
        return agentInfo.toBuilder().clearResources().addAllResources(total().toProto()).build();
    }

    /** The total the agent reports: what it has, with its dynamic reservations applied. */
    Resources total() {
        if (reservations.isEmpty()) {
            return baseTotal;
        }
        Resources unreserved = reservations.withoutReservations();
        if (!baseTotal.contains(unreserved)) {
            if (!reservationsDoNotFit) {
                reservationsDoNotFit = true;
                LOG.warn("Checkpointed reservations {} do not fit in the agent's resources {}; reporting them"
                        + " unreserved until the master sends reservations that fit", reservations, baseTotal);
            }
            return baseTotal;
        }
        return baseTotal.minus(unreserved).plus(reservations);
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
        // Always, whatever the frameworks ask: a restarted agent re-registers under this id.
        try {
            store.writeAgent(AgentCheckpoint.newBuilder()
                    .setAgentInfo(agentInfo().toBuilder().setId(id.toProto()))
                    .setBootId(bootId)
                    .build());
        } catch (IOException e) {
            LOG.warn("Cannot checkpoint the agent's id {} in {}: {}; a restarted agent will register anew", id,
                    store.metaDir(), e.getMessage());
        }
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
            case CHECKPOINT_RESOURCES -> checkpointResources(message.getCheckpointResources());
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
        frameworks.put(frameworkId, run.getFramework());
        ContainerId containerId = ContainerId.of(UUID.randomUUID().toString());
        Path sandbox = Sandbox.path(config.workDir(), agentId, frameworkId, key.task(), containerId);
        TaskRecord task = new TaskRecord(key, run.getTask(), containerId, sandbox);
        task.checkpoint = run.getFramework().getCheckpoint();
        if (task.checkpoint) {
            try {
                store.writeFramework(run.getFramework());
            } catch (IOException e) {
                LOG.warn("Cannot checkpoint framework {} in {}: {}", frameworkId, store.metaDir(), e.getMessage());
            }
        }
        tasks.put(key, task);
        update(task, TaskState.TASK_STARTING, StatusReason.REASON_UNSPECIFIED, "", StatusSource.SOURCE_EXECUTOR, null);
        loop.append(() -> prepare(key, containerId));
    }

    /** What preparing a launch off the loop produced: the user to run as (null: the agent's), or why not. */
    private record Prepared(TaskUser user, StatusReason failureReason, String failure) {
        static Prepared ready(TaskUser user) {
            return new Prepared(user, null, null);
        }

        static Prepared failed(StatusReason reason, String message) {
            return new Prepared(null, reason, message);
        }
    }

    /** Starts the blocking part of a launch on a worker: the task user, the sandbox. */
    private void prepare(TaskKey key, ContainerId containerId) {
        TaskRecord task = launching(key, containerId);
        if (task == null) {
            return;
        }
        String user = taskUser(task);
        Path sandbox = task.sandbox;
        Path runtime = Sandbox.runtimeDir(config.workDir(), containerId);
        List<CommandURI> uris = task.info.getCommand().getUrisList();
        submit(() -> {
            Prepared prepared = prepareOffLoop(user, sandbox, runtime, uris);
            loop.append(() -> prepared(key, containerId, prepared));
        }, () -> prepared(key, containerId, Prepared.failed(StatusReason.REASON_CONTAINER_LAUNCH_FAILED,
                "The agent is stopping")));
    }

    /** The user the task runs as, or "" for the agent's own (not root, or --switch_user off, or none given). */
    private String taskUser(TaskRecord task) {
        if (!config.switchUser() || !agentIsRoot) {
            return "";
        }
        String user = task.info.getCommand().getUser();
        if (user.isEmpty()) {
            FrameworkInfo framework = frameworks.get(task.key.framework());
            user = framework == null ? "" : framework.getUser();
        }
        return user;
    }

    /** Worker thread: looks up the user, creates the sandbox, fetches the URIs and gives it all to the user. */
    private Prepared prepareOffLoop(String userName, Path sandbox, Path runtime, List<CommandURI> uris) {
        TaskUser user = null;
        if (!userName.isEmpty()) {
            try {
                user = TaskUser.lookup(userName);
            } catch (UserPrincipalNotFoundException e) {
                return Prepared.failed(StatusReason.REASON_TASK_USER_INVALID,
                        "User '" + userName + "' does not exist on the agent's host");
            } catch (IOException e) {
                return Prepared.failed(StatusReason.REASON_TASK_USER_INVALID,
                        "Cannot look up user '" + userName + "': " + e.getMessage());
            }
        }
        try {
            Sandbox.create(sandbox);
            Files.createDirectories(runtime);
        } catch (IOException e) {
            return Prepared.failed(StatusReason.REASON_CONTAINER_LAUNCH_FAILED,
                    "Cannot create the sandbox " + sandbox + ": " + e.getMessage());
        }
        if (!uris.isEmpty()) {
            try {
                fetcher.fetch(uris, sandbox, user);
            } catch (FetchException e) {
                return Prepared.failed(StatusReason.REASON_FETCHER_FAILED, e.getMessage());
            }
        }
        if (user != null) {
            try {
                user.ownTree(sandbox);
            } catch (IOException e) {
                return Prepared.failed(StatusReason.REASON_CONTAINER_LAUNCH_FAILED,
                        "Cannot give the sandbox " + sandbox + " to user " + user.name() + ": " + e.getMessage());
            }
        }
        return Prepared.ready(user);
    }

    /** The task if it still waits for this launch; null if it was killed (or its framework shut down) since. */
    private TaskRecord launching(TaskKey key, ContainerId containerId) {
        TaskRecord task = tasks.get(key);
        if (stopped || task == null || task.phase != TaskRecord.Phase.LAUNCHING || !task.containerId.equals(containerId)) {
            return null;
        }
        mdc(key.framework().value(), key.task().value());
        return task;
    }

    private void prepared(TaskKey key, ContainerId containerId, Prepared prepared) {
        TaskRecord task = launching(key, containerId);
        if (task == null) {
            return;
        }
        if (prepared.failure() != null) {
            launchFailed(task, prepared.failureReason(), prepared.failure());
            return;
        }
        String failure;
        try {
            LaunchSpec spec = new LaunchSpec(
                    containerId,
                    task.sandbox,
                    task.info.getCommand(),
                    TaskEnvironment.build(containerizer.agentEnvironment(), agentId, key.framework(), task.info,
                            containerId, task.sandbox),
                    task.limits,
                    prepared.user() == null ? null : prepared.user().spec(),
                    Sandbox.runtimeDir(config.workDir(), containerId).resolve(Sandbox.EXIT_STATUS),
                    watchGrace(task));
            // Recorded before the launcher exists, so that a restarted agent finds (and kills) whatever of it
            // runs; recorded again with the launcher's pid and start time before the command starts.
            ContainerCheckpoint.Builder record = ContainerCheckpoint.newBuilder()
                    .setFrameworkId(key.framework().toProto())
                    .setTaskId(task.info.getTaskId())
                    .setContainerId(containerId.toProto())
                    .setBootId(bootId)
                    .setIsolation(containerizer.isolator().name())
                    .setCgroup(containerizer.isolator().recover(containerId, "").name())
                    .setSandbox(task.sandbox.toString())
                    .setCheckpoint(task.checkpoint);
            try {
                store.writeContainer(record.build());
            } catch (IOException e) {
                throw new ContainerLaunchException("Cannot checkpoint the container: " + e.getMessage(), e);
            }
            Container container = containerizer.launch(spec, containerListener(key), c -> store.writeContainer(record
                    .setPid((int) c.pid())
                    .setStartTime(c.startTime())
                    .setCgroup(c.isolation().name())
                    .build()));
            task.container = container;
            move(task, TaskRecord.Phase.RUNNING);
            update(task, TaskState.TASK_RUNNING, StatusReason.REASON_UNSPECIFIED, "", StatusSource.SOURCE_EXECUTOR,
                    null);
            LOG.info("Launched task {} of framework {} as pid {} ({}{}) in {}", key.task(), key.framework(),
                    container.pid(), container.isolation().isolator(),
                    prepared.user() == null ? "" : ", user " + prepared.user().name(), task.sandbox);
            startHealthChecks(task, prepared.user());
            return;
        } catch (ContainerLaunchException e) {
            failure = e.getMessage();
        }
        launchFailed(task, StatusReason.REASON_CONTAINER_LAUNCH_FAILED, failure);
    }

    /** Tasks of frameworks that do not checkpoint die with the agent: their launcher watches it. */
    private Duration watchGrace(TaskRecord task) {
        return task.checkpoint ? null : gracePeriod(null, task);
    }

    private void launchFailed(TaskRecord task, StatusReason reason, String failure) {
        LOG.warn("Failed to launch task {} of framework {}: {}", task.key.task(), task.key.framework(), failure);
        move(task, TaskRecord.Phase.TERMINAL);
        update(task, TaskState.TASK_FAILED, reason, failure, StatusSource.SOURCE_AGENT, null);
    }

    private Containerizer.Listener containerListener(TaskKey key) {
        return new Containerizer.Listener() {
            @Override
            public void exited(Container container, Termination termination) {
                TaskManager.this.exited(key, container, termination);
            }

            @Override
            public void cleanedUp(Container container, boolean clean) {
                TaskManager.this.cleanedUp(container, clean);
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
        TaskRecord task = tasks.get(key);
        if (task == null || task.container != container) {
            LOG.debug("Container {} of task {} exited after the task was forgotten", container.id(), key);
            return;
        }
        mdc(key.framework().value(), key.task().value());
        stopHealthChecks(task);
        move(task, TaskRecord.Phase.TERMINAL);
        Integer exit = termination.known() ? termination.exitValue() : null;
        if (stopped) {
            // The agent is stopping and killed it; nobody is left to tell.
            LOG.info("Task {} of framework {} killed as the agent stops, exit code {}", key.task(), key.framework(),
                    exit);
            return;
        }
        if (task.limitation == null && termination.oomKills() > 0) {
            task.limitation = memoryLimitation(task, termination.memPeakBytes());
        }
        if (task.limitation != null) {
            LOG.info("Task {} of framework {} failed: {}", key.task(), key.framework(), task.limitation.message());
            terminal(task, TaskState.TASK_FAILED, task.limitation.reason(), task.limitation.message(), exit,
                    StatusSource.SOURCE_AGENT);
        } else if (task.killRequested) {
            String message = task.killMessage != null ? task.killMessage
                    : termination.killedWith() == Termination.KillSignal.SIGKILL
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

    private TaskRecord.Limitation memoryLimitation(TaskRecord task, long usedBytes) {
        String used = usedBytes > 0 ? ", used " + (usedBytes / (1024 * 1024)) + " MB" : "";
        return new TaskRecord.Limitation(StatusReason.REASON_CONTAINER_LIMITATION_MEMORY,
                "Memory limit exceeded: requested " + task.limits.memMb() + " MB" + used);
    }

    /** Kills the task at once for exceeding a limit; its terminal update says which. Loop thread. */
    private void limit(TaskRecord task, TaskRecord.Limitation limitation) {
        if (task.limitation != null || task.phase == TaskRecord.Phase.TERMINAL || task.container == null) {
            return;
        }
        mdc(task.key.framework().value(), task.key.task().value());
        task.limitation = limitation;
        stopHealthChecks(task);
        LOG.info("Killing task {} of framework {}: {}", task.key.task(), task.key.framework(), limitation.message());
        if (task.phase == TaskRecord.Phase.RUNNING) {
            move(task, TaskRecord.Phase.KILLING);
        }
        containerizer.kill(task.container, Duration.ZERO);
    }

    // ---------------------------------------------------------------- health checks

    private void startHealthChecks(TaskRecord task, TaskUser user) {
        if (!task.info.hasHealthCheck() || task.health != null) {
            return;
        }
        TaskKey key = task.key;
        HealthChecker.Probe probe = HealthProbes.of(task.info.getHealthCheck(), task.sandbox,
                TaskEnvironment.build(containerizer.agentEnvironment(), agentId, key.framework(), task.info,
                        task.containerId, task.sandbox),
                user, workers);
        HealthChecker[] checker = new HealthChecker[1];
        checker[0] = new HealthChecker(loop, "health/" + key.framework() + "/" + key.task(),
                task.info.getHealthCheck(), probe, new HealthChecker.Listener() {
                    @Override
                    public void healthChanged(boolean healthy, String detail) {
                        TaskManager.this.healthChanged(key, checker[0], healthy, detail);
                    }

                    @Override
                    public void failed(int failures, String detail) {
                        TaskManager.this.healthFailed(key, checker[0], failures, detail);
                    }
                });
        task.health = checker[0];
        checker[0].start();
    }

    private void stopHealthChecks(TaskRecord task) {
        if (task.health != null) {
            task.health.stop();
            task.health = null;
        }
    }

    private void healthChanged(TaskKey key, HealthChecker checker, boolean healthy, String detail) {
        TaskRecord task = tasks.get(key);
        if (task == null || task.health != checker || task.phase != TaskRecord.Phase.RUNNING) {
            return;
        }
        mdc(key.framework().value(), key.task().value());
        task.healthy = healthy;
        LOG.info("Task {} of framework {} is {}: {}", key.task(), key.framework(), healthy ? "healthy" : "unhealthy",
                detail);
        update(task, TaskState.TASK_RUNNING, StatusReason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, detail,
                StatusSource.SOURCE_EXECUTOR, null);
    }

    /** As Mesos: a task that fails its health checks' threshold is killed and reported TASK_KILLED. */
    private void healthFailed(TaskKey key, HealthChecker checker, int failures, String detail) {
        TaskRecord task = tasks.get(key);
        if (task == null || task.health != checker || task.phase != TaskRecord.Phase.RUNNING) {
            return;
        }
        mdc(key.framework().value(), key.task().value());
        task.health = null;
        task.healthy = false;
        task.killRequested = true;
        task.killReason = StatusReason.REASON_HEALTH_CHECK_FAILED;
        task.killMessage = "Task failed " + failures + " consecutive health checks; the last: " + detail;
        checkpoint(task);
        move(task, TaskRecord.Phase.KILLING);
        if (hasCapability(key.framework(), FrameworkInfo.Capability.Type.TASK_KILLING_STATE)) {
            update(task, TaskState.TASK_KILLING, StatusReason.REASON_HEALTH_CHECK_FAILED, task.killMessage,
                    StatusSource.SOURCE_EXECUTOR, null);
        }
        Duration grace = gracePeriod(null, task);
        LOG.info("Killing task {} of framework {}: {}; SIGKILL after {} ms", key.task(), key.framework(),
                task.killMessage, grace.toMillis());
        containerizer.kill(task.container, grace);
    }

    private static TaskUser resolveQuietly(String user) {
        if (user.isEmpty()) {
            return null;
        }
        try {
            return TaskUser.lookup(user);
        } catch (IOException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- usage

    /** Samples every running container on a worker, then enforces limits with the result. Timer. */
    private void sampleUsage() {
        loop.schedule(USAGE_TIMER, config.usageInterval(), this::sampleUsage);
        if (sampling || stopped) {
            return;
        }
        List<TaskRecord> live = liveTasks();
        if (live.isEmpty()) {
            return;
        }
        sampling = true;
        List<Container> containers = live.stream().map(t -> t.container).toList();
        submit(() -> {
            Map<Container, UsageSample> samples = new LinkedHashMap<>();
            for (Container c : containers) {
                samples.put(c, containerizer.sample(c));
            }
            loop.append(() -> sampled(samples));
        }, () -> sampling = false);
    }

    private void sampled(Map<Container, UsageSample> samples) {
        sampling = false;
        for (TaskRecord task : tasks.values()) {
            UsageSample sample = task.container == null ? null : samples.get(task.container);
            if (sample == null || task.container.isExited()) {
                continue;
            }
            task.usage = sample;
            long mem = task.limits.enforcedMemBytes();
            if (containerizer.isolator().enforcesMemory()) {
                if (sample.oomKills() > 0) {
                    limit(task, memoryLimitation(task, sample.memPeakBytes()));
                }
            } else if (mem > 0 && sample.rssBytes() > mem) {
                limit(task, memoryLimitation(task, sample.rssBytes()));
            }
        }
    }

    /**
     * Measures every running task's sandbox on a worker, then enforces (or warns about) disk limits, and
     * lets the sandbox GC check the work directory's file system. Timer.
     */
    private void measureDisk() {
        loop.schedule(DISK_TIMER, config.diskWatchInterval(), this::measureDisk);
        if (stopped) {
            return;
        }
        gc.checkDisk();
        List<TaskRecord> live = liveTasks();
        if (measuringDisk || live.isEmpty()) {
            return;
        }
        measuringDisk = true;
        Map<Container, Path> sandboxes = new LinkedHashMap<>();
        live.forEach(t -> sandboxes.put(t.container, t.sandbox));
        submit(() -> {
            Map<Container, Long> used = new LinkedHashMap<>();
            sandboxes.forEach((c, dir) -> used.put(c, DiskUsage.of(dir)));
            loop.append(() -> diskMeasured(used));
        }, () -> measuringDisk = false);
    }

    private void diskMeasured(Map<Container, Long> used) {
        measuringDisk = false;
        for (TaskRecord task : tasks.values()) {
            Long bytes = task.container == null ? null : used.get(task.container);
            if (bytes == null || task.container.isExited()) {
                continue;
            }
            task.diskUsed = bytes;
            long limit = task.limits.diskBytes();
            if (limit <= 0 || bytes <= limit) {
                continue;
            }
            mdc(task.key.framework().value(), task.key.task().value());
            String usage = "Disk usage " + bytes / MB + " MB exceeds the task's disk resource of "
                    + task.limits.diskMb() + " MB";
            if (config.enforceDiskLimit()) {
                limit(task, new TaskRecord.Limitation(StatusReason.REASON_CONTAINER_LIMITATION_DISK, usage));
            } else if (!task.diskWarned) {
                task.diskWarned = true;
                LOG.warn("Task {} of framework {}: {} (not enforced: --enforce_disk_limit is off)", task.key.task(),
                        task.key.framework(), usage);
            }
        }
    }

    /** Sandboxes waiting for removal. For tests. */
    int sandboxesToCollect() {
        return gc.size();
    }

    private List<TaskRecord> liveTasks() {
        List<TaskRecord> live = new ArrayList<>();
        for (TaskRecord task : tasks.values()) {
            if (task.container != null && !task.container.isExited()) {
                live.add(task);
            }
        }
        return live;
    }

    /** One running container as the operator API shows it, before its fresh usage sample is taken. */
    record ContainerView(TaskRecord task, Container container) {}

    /** The running containers. Loop thread; the caller samples them off the loop ({@link #containerStatus}). */
    List<ContainerView> containers() {
        return liveTasks().stream().map(t -> new ContainerView(t, t.container)).toList();
    }

    /** The operator API's view of a container with {@code sample}. Any thread: reads immutable fields only. */
    ContainerStatus containerStatus(ContainerView view, UsageSample sample, double now) {
        TaskRecord task = view.task();
        boolean cgroups = containerizer.isolator().enforcesMemory();
        ResourceStatistics.Builder stats = ResourceStatistics.newBuilder()
                .setTimestamp(now)
                .setCpusUserTimeSecs(sample.cpuUserSeconds())
                .setCpusSystemTimeSecs(sample.cpuSystemSeconds())
                .setCpusLimitMilli(containerizer.isolator().capsCpu() ? task.limits.cpusMilli() : 0)
                .setMemRssBytes(sample.rssBytes())
                // posix enforces the limit by sampling, so it is a limit all the same.
                .setMemLimitBytes(cgroups ? sample.memLimitBytes() : task.limits.enforcedMemBytes())
                .setDiskUsedBytes(task.diskUsed)
                .setDiskLimitBytes(config.enforceDiskLimit() ? task.limits.diskBytes() : 0)
                .setProcesses(sample.processes());
        return ContainerStatus.newBuilder()
                .setFrameworkId(task.key.framework().toProto())
                .setTaskId(task.info.getTaskId())
                .setExecutorId(ExecutorID.newBuilder().setValue(task.key.task().value()))
                .setContainerId(view.container().id().toProto())
                .setIsolation(view.container().isolation().isolator())
                .setPid((int) view.container().pid())
                .setStatistics(stats)
                .build();
    }

    /** Runs {@code job} on a worker; if the workers are gone (the agent stops), runs {@code refused} instead. */
    private void submit(Runnable job, Runnable refused) {
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            refused.run();
        }
    }

    private void terminal(TaskRecord task, TaskState state, StatusReason reason, String message, Integer exitCode) {
        terminal(task, state, reason, message, exitCode, StatusSource.SOURCE_EXECUTOR);
    }

    private void terminal(TaskRecord task, TaskState state, StatusReason reason, String message, Integer exitCode,
            StatusSource source) {
        if (task.frameworkRemoved) {
            // Nobody will acknowledge it: tell the master once and forget the task (invariant 2).
            TaskStatus.Builder builder = status(task.key, task, state)
                    .setReason(reason)
                    .setMessage(message)
                    .setSource(source);
            if (exitCode != null) {
                builder.setExitCode(exitCode);
            }
            TaskStatus status = builder.build();
            task.state = state;
            task.latestStatus = updates.sendOnce(task.key.framework(), status).getStatus();
            forget(task.key);
            return;
        }
        update(task, state, reason, message, source, exitCode);
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
                // A restarted agent must finish the kill, not let the task run on.
                checkpoint(task);
                stopHealthChecks(task);
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
                    stopHealthChecks(task);
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

    // ---------------------------------------------------------------- checkpointing

    /** The status update manager changed a task's stream: checkpoint it before anything is sent. */
    private void journal(TaskKey key, List<StatusUpdate> pending, StatusUpdate added) {
        TaskRecord task = tasks.get(key);
        if (task == null) {
            // Updates of tasks the agent never ran (invalid, unknown): nothing to recover.
            return;
        }
        if (added != null) {
            task.state = added.getStatus().getState();
            task.latestStatus = added.getStatus();
        }
        checkpoint(task, pending);
    }

    private void checkpoint(TaskRecord task) {
        checkpoint(task, updates.pending(task.key));
    }

    private void checkpoint(TaskRecord task, List<StatusUpdate> pending) {
        if (!task.checkpoint || agentId == null) {
            return;
        }
        try {
            store.writeTask(task.key.framework(), task.key.task(), TaskCheckpoint.newBuilder()
                    .setTask(task.toProto(agentId))
                    .addAllPendingUpdates(pending)
                    .setKillRequested(task.killRequested)
                    .setKillReason(task.killReason)
                    .build());
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot checkpoint task {} of framework {} in {}: {}; an agent restart may lose its updates",
                    task.key.task(), task.key.framework(), store.metaDir(), e.getMessage());
        }
    }

    /** The master's full set of dynamic reservations: written to disk, then reported from now on. */
    private void checkpointResources(MasterMessage.CheckpointResources body) {
        mdc(null, null);
        List<Resource> list = body.getResourcesList();
        String error = ResourceValidation.validate(list);
        for (int i = 0; error == null && i < list.size(); i++) {
            Resource r = list.get(i);
            if (!r.hasReservation() || r.getReservation().getType() != ReservationInfo.Type.DYNAMIC) {
                error = "resource " + i + " (" + r.getName() + ") is not a dynamic reservation";
            }
        }
        if (error != null) {
            LOG.warn("Ignored CHECKPOINT_RESOURCES: {}", error);
            return;
        }
        Resources dynamic = Resources.fromProto(list);
        try {
            store.writeResources(ResourcesCheckpoint.newBuilder().addAllResources(list).build());
        } catch (IOException e) {
            LOG.warn("Cannot checkpoint dynamic reservations {} in {}: {}", dynamic, store.metaDir(), e.getMessage());
            return;
        }
        reservations = dynamic;
        reservationsDoNotFit = false;
        LOG.info("Checkpointed dynamic reservations {}; total resources now {}", dynamic, total());
    }

    // ---------------------------------------------------------------- recovery

    /** What recovery did, for the agent's log line and its master link. */
    record Recovery(AgentId agentId, int reattached, int ended, int killed) {}

    /**
     * Rebuilds the agent from what a previous agent on this work directory left (see {@code docs/agent.md}):
     * reattaches to launchers that still run, reports the end of those that ended meanwhile with their
     * recorded exit status, reports tasks whose container is gone (or whose host rebooted) as gone or
     * lost, and kills the containers of frameworks that do not checkpoint. Every update is queued (and
     * checkpointed) to go out after the agent re-registers. With {@code --recover=cleanup}, kills every
     * container left and forgets everything. Loop thread, before the master link starts.
     */
    Recovery recover(CheckpointStore.Recovered left, AgentConfig.RecoverMode mode) {
        if (mode == AgentConfig.RecoverMode.CLEANUP || left.agent().isEmpty()) {
            if (left.agent().isEmpty() && !left.tasks().isEmpty()) {
                LOG.warn("Found {} task records but no agent record in {}: killing their containers, starting anew",
                        left.tasks().size(), store.metaDir());
            }
            for (ContainerCheckpoint c : left.containers()) {
                destroyRecorded(c, "--recover=cleanup");
            }
            store.wipeAgentState();
            if (!left.isEmpty()) {
                LOG.info("Cleaned up after the previous agent: killed {} containers, forgot its agent id",
                        left.containers().size());
            }
            return new Recovery(null, 0, 0, left.containers().size());
        }
        left.resources().ifPresent(r -> reservations = Resources.fromProto(r.getResourcesList()));
        AgentCheckpoint agent = left.agent().get();
        agentId = AgentId.of(agent.getAgentInfo().getId());
        mdc(null, null);
        boolean rebooted = !bootId.isEmpty() && !agent.getBootId().isEmpty() && !agent.getBootId().equals(bootId);
        if (rebooted) {
            LOG.info("The host rebooted since agent {} last ran (boot id {}, now {}): its tasks are gone", agentId,
                    agent.getBootId(), bootId);
        }
        frameworks.putAll(left.frameworks());
        Map<ContainerId, ContainerCheckpoint> containers = new LinkedHashMap<>();
        left.containers().forEach(c -> containers.put(ContainerId.of(c.getContainerId()), c));
        int reattached = 0;
        int ended = 0;
        for (TaskCheckpoint record : left.tasks()) {
            Task t = record.getTask();
            FrameworkId framework = FrameworkId.of(t.getFrameworkId());
            TaskKey key = new TaskKey(framework, TaskId.of(t.getTaskId()));
            ContainerId containerId = ContainerId.of(t.getContainerId());
            mdc(framework.value(), key.task().value());
            TaskRecord task = new TaskRecord(key, t.getTaskInfo(), containerId,
                    Sandbox.path(config.workDir(), agentId, framework, key.task(), containerId));
            task.checkpoint = true;
            task.state = t.getState();
            task.latestStatus = t.hasLatestStatus() ? t.getLatestStatus() : null;
            task.healthy = task.latestStatus != null && task.latestStatus.hasHealthy()
                    ? task.latestStatus.getHealthy() : null;
            task.killRequested = record.getKillRequested();
            task.killReason = record.getKillReason();
            tasks.put(key, task);
            frameworks.computeIfAbsent(framework, f -> FrameworkInfo.newBuilder().setId(f.toProto()).build());
            updates.restore(framework, key.task(), record.getPendingUpdatesList());
            ContainerCheckpoint container = containers.remove(containerId);
            if (TaskStates.isTerminal(task.state)) {
                // Its end is known (and maybe not yet acknowledged): only leftovers to clean.
                move(task, TaskRecord.Phase.TERMINAL);
                if (container != null) {
                    destroyRecorded(container, "its task already ended");
                }
                continue;
            }
            if (container == null) {
                move(task, TaskRecord.Phase.TERMINAL);
                update(task, partitionAware(framework, TaskState.TASK_DROPPED), StatusReason.REASON_AGENT_RESTARTED,
                        "The agent restarted before the task's command started", StatusSource.SOURCE_AGENT, null);
                ended++;
                continue;
            }
            if (recoverContainer(task, container, rebooted)) {
                reattached++;
            } else {
                ended++;
            }
        }
        int killed = 0;
        for (ContainerCheckpoint c : containers.values()) {
            destroyRecorded(c, c.getCheckpoint() ? "no task record is left for it"
                    : "its framework does not checkpoint");
            killed++;
        }
        mdc(null, null);
        LOG.info("Recovered agent {}: {} tasks still run, {} ended while the agent was away, {} containers killed",
                agentId, reattached, ended, killed);
        return new Recovery(agentId, reattached, ended, killed);
    }

    /** Reattaches {@code task} to its container, or reports how it ended. True if it still runs. */
    private boolean recoverContainer(TaskRecord task, ContainerCheckpoint record, boolean hostRebooted) {
        TaskKey key = task.key;
        boolean rebooted = hostRebooted || (!bootId.isEmpty() && !record.getBootId().isEmpty()
                && !record.getBootId().equals(bootId));
        Path statusFile = Sandbox.runtimeDir(config.workDir(), task.containerId).resolve(Sandbox.EXIT_STATUS);
        if (rebooted) {
            // Its processes died with the host, and its pid may now be anyone's: nothing to touch.
            Sandbox.deleteRuntimeDir(config.workDir(), task.containerId);
            move(task, TaskRecord.Phase.TERMINAL);
            update(task, partitionAware(key.framework(), TaskState.TASK_GONE), StatusReason.REASON_AGENT_REBOOTED,
                    "The host rebooted while the agent was down", StatusSource.SOURCE_AGENT, null);
            return false;
        }
        if (record.getPid() > 0) {
            Optional<Container> container = containerizer.recover(task.containerId, task.sandbox, record.getCgroup(),
                    record.getPid(), record.getStartTime(), statusFile, containerListener(key));
            if (container.isPresent()) {
                task.container = container.get();
                move(task, TaskRecord.Phase.RUNNING);
                LOG.info("Recovered task {} of framework {}: its launcher (pid {}) still runs", key.task(),
                        key.framework(), record.getPid());
                if (task.killRequested) {
                    move(task, TaskRecord.Phase.KILLING);
                    containerizer.kill(task.container, gracePeriod(null, task));
                } else if (task.info.hasHealthCheck()) {
                    String user = taskUser(task);
                    ContainerId containerId = task.containerId;
                    // The user's ids are looked up off the loop, as for a launch.
                    submit(() -> {
                        TaskUser resolved = resolveQuietly(user);
                        loop.append(() -> {
                            TaskRecord now = tasks.get(key);
                            if (now != null && now.containerId.equals(containerId)
                                    && now.phase == TaskRecord.Phase.RUNNING) {
                                startHealthChecks(now, resolved);
                            }
                        });
                    }, () -> {});
                }
                return true;
            }
        }
        int status = record.getPid() > 0 ? LauncherScript.readStatus(statusFile) : -1;
        long oomKills = containerizer.oomKills(task.containerId, record.getCgroup());
        destroyRecorded(record, "its launcher is gone");
        move(task, TaskRecord.Phase.TERMINAL);
        Integer exit = status >= 0 ? status : null;
        if (oomKills > 0) {
            task.limitation = memoryLimitation(task, 0);
            update(task, TaskState.TASK_FAILED, task.limitation.reason(), task.limitation.message(),
                    StatusSource.SOURCE_AGENT, exit);
        } else if (task.killRequested) {
            update(task, TaskState.TASK_KILLED, task.killReason, "Killed while the agent was away",
                    StatusSource.SOURCE_EXECUTOR, exit);
        } else if (status == 0) {
            update(task, TaskState.TASK_FINISHED, StatusReason.REASON_UNSPECIFIED, "Command exited with status 0",
                    StatusSource.SOURCE_EXECUTOR, 0);
        } else if (status > 0) {
            Termination t = new Termination(status, Termination.KillSignal.NONE);
            update(task, TaskState.TASK_FAILED, StatusReason.REASON_COMMAND_FAILED, t.describe(),
                    StatusSource.SOURCE_EXECUTOR, status);
        } else {
            update(task, partitionAware(key.framework(), TaskState.TASK_GONE), StatusReason.REASON_AGENT_RESTARTED,
                    record.getPid() > 0
                            ? "The task's launcher (pid " + record.getPid() + ") is gone and recorded no exit status"
                            : "The agent restarted while launching the task",
                    StatusSource.SOURCE_AGENT, null);
        }
        LOG.info("Task {} of framework {} ended while the agent was away: {}", key.task(), key.framework(),
                task.latestStatus.getMessage());
        return false;
    }

    /** Kills what is left of a recorded container and removes its record once it is cleaned up. */
    private void destroyRecorded(ContainerCheckpoint record, String why) {
        ContainerId id = ContainerId.of(record.getContainerId());
        LOG.info("Killing what is left of container {} of task {} of framework {}: {}", id,
                record.getTaskId().getValue(), record.getFrameworkId().getValue(), why);
        containerizer.destroy(id, record.getCgroup(), record.getPid(), record.getStartTime())
                .whenComplete((v, error) -> {
                    if (error == null) {
                        Sandbox.deleteRuntimeDir(config.workDir(), id);
                    }
                });
    }

    /** {@code state} for a PARTITION_AWARE framework, TASK_LOST for others (as the master translates). */
    private TaskState partitionAware(FrameworkId framework, TaskState state) {
        return hasCapability(framework, FrameworkInfo.Capability.Type.PARTITION_AWARE) ? state : TaskState.TASK_LOST;
    }

    // ---------------------------------------------------------------- agent lifecycle and queries

    /**
     * Stops handling messages (the agent stops). Tasks of frameworks that do not checkpoint are killed.
     * Those of frameworks that do are killed too when {@link AgentConfig#killTasksOnStop()} (their kill is
     * checkpointed first, so that the next agent reports them TASK_KILLED), else left running for the
     * next agent on this work directory to recover.
     *
     * @return futures completed as the killed processes go away
     */
    List<CompletableFuture<?>> stop() {
        stopped = true;
        int left = 0;
        List<Container> kill = new ArrayList<>();
        for (TaskRecord task : tasks.values()) {
            stopHealthChecks(task);
            boolean live = task.container != null && !task.container.isExited();
            if (task.checkpoint && !config.killTasksOnStop()) {
                left += live ? 1 : 0;
                continue;
            }
            if (task.checkpoint && task.phase != TaskRecord.Phase.TERMINAL && !task.killRequested) {
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

    /** Unacknowledged updates of every task. For tests. */
    List<StatusUpdate> pendingUpdates() {
        return updates.pending();
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
            if (task.healthy != null) {
                status.setHealthy(task.healthy);
            }
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
        TaskRecord task = tasks.remove(key);
        if (task != null) {
            gc.schedule(task.sandbox, loop.clock().millis());
        }
        if (task != null && task.checkpoint) {
            try {
                store.deleteTask(key.framework(), key.task());
            } catch (IOException | RuntimeException e) {
                LOG.warn("Cannot remove the checkpoint of task {} of framework {}: {}", key.task(), key.framework(),
                        e.getMessage());
            }
        }
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

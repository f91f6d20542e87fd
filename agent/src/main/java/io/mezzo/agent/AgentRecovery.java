package io.mezzo.agent;

import io.mezzo.agent.checkpoint.CheckpointStore;
import io.mezzo.agent.containerizer.Container;
import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.LauncherScript;
import io.mezzo.agent.containerizer.Limitation;
import io.mezzo.agent.containerizer.Sandbox;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.agent.containerizer.Termination;
import io.mezzo.agent.resources.ReservationManager;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.AgentCheckpoint;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskCheckpoint;
import io.mezzo.proto.v1.TaskState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovers after an agent restart: rebuilds the agent from what a previous agent on the same work
 * directory left under {@code meta/} (see {@code docs/agent.md}, "What a restarted agent does").
 *
 * <pre>
 *   --recover=cleanup, or no agent record -> kill every recorded container, wipe the records, new agent
 *   reconnect: agent id, reservations, frameworks; for each task record:
 *     terminal already         -> its stream resent; leftovers of its container killed
 *     no container record      -> TASK_DROPPED (or TASK_LOST), AGENT_RESTARTED
 *     host rebooted            -> TASK_GONE (or TASK_LOST), AGENT_REBOOTED; nothing touched
 *     launcher alive (pid and start time match) -> reattached: RUNNING, kill carried on, health restarted
 *     launcher gone            -> exit status / OOM counter / kill request -> FINISHED, FAILED, KILLED,
 *                                 or TASK_GONE (TASK_LOST) when nothing was recorded
 *   containers with no task record left (or of frameworks that do not checkpoint) -> killed
 * </pre>
 *
 * <p>Every update it produces is checkpointed and queued (the status update manager is still paused):
 * it goes out after the agent re-registers.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A pid is adopted only with its recorded start time (the containerizer checks it); after a reboot
 *       no recorded pid is touched.
 *   <li>Every container record is either reattached to its task or destroyed; its record goes once its
 *       container is cleaned up.
 * </ol>
 *
 * <p>Thread: the agent's event loop, before the master link starts (the user lookup for a recovered
 * task's health checks runs on a worker). Owner: {@link AgentCore}. Stateless: what it rebuilds is
 * {@link TaskLifecycle}'s, the status update manager's and the reservation manager's.
 */
final class AgentRecovery {

    /** What recovery did, for the agent's log line and its master link. */
    record Result(AgentId agentId, int reattached, int ended, int killed) {}

    private static final Logger LOG = LoggerFactory.getLogger(AgentRecovery.class);

    private final AgentConfig config;
    private final EventLoop loop;
    private final Containerizer containerizer;
    private final Executor workers;
    private final CheckpointStore store;
    private final String bootId;
    private final TaskLifecycle tasks;
    private final TaskLauncher launcher;
    private final StatusUpdateManager updates;
    private final ReservationManager reservations;

    AgentRecovery(AgentConfig config, EventLoop loop, Containerizer containerizer, Executor workers,
            CheckpointStore store, String bootId, TaskLifecycle tasks, TaskLauncher launcher,
            StatusUpdateManager updates, ReservationManager reservations) {
        this.config = config;
        this.loop = loop;
        this.containerizer = containerizer;
        this.workers = workers;
        this.store = store;
        this.bootId = bootId;
        this.tasks = tasks;
        this.launcher = launcher;
        this.updates = updates;
        this.reservations = reservations;
    }

    /**
     * Rebuilds the agent from what a previous agent on this work directory left: reattaches to launchers
     * that still run, reports the end of those that ended meanwhile with their recorded exit status,
     * reports tasks whose container is gone (or whose host rebooted) as gone or lost, and kills the
     * containers of frameworks that do not checkpoint. With {@code --recover=cleanup}, kills every
     * container left and forgets everything. Loop thread, before the master link starts.
     */
    Result recover(CheckpointStore.Recovered left, AgentConfig.RecoverMode mode) {
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
            return new Result(null, 0, 0, left.containers().size());
        }
        left.resources().ifPresent(reservations::restore);
        AgentCheckpoint agent = left.agent().get();
        AgentId agentId = AgentId.of(agent.getAgentInfo().getId());
        tasks.agentId(agentId);
        LogContext.set(agentId, null, null);
        boolean rebooted = !bootId.isEmpty() && !agent.getBootId().isEmpty() && !agent.getBootId().equals(bootId);
        if (rebooted) {
            LOG.info("The host rebooted since agent {} last ran (boot id {}, now {}): its tasks are gone", agentId,
                    agent.getBootId(), bootId);
        }
        left.frameworks().values().forEach(tasks::framework);
        Map<ContainerId, ContainerCheckpoint> containers = new LinkedHashMap<>();
        left.containers().forEach(c -> containers.put(ContainerId.of(c.getContainerId()), c));
        int reattached = 0;
        int ended = 0;
        for (TaskCheckpoint record : left.tasks()) {
            Task t = record.getTask();
            FrameworkId framework = FrameworkId.of(t.getFrameworkId());
            TaskKey key = new TaskKey(framework, TaskId.of(t.getTaskId()));
            ContainerId containerId = ContainerId.of(t.getContainerId());
            LogContext.set(agentId, key);
            TaskRecord task = new TaskRecord(key, t.getTaskInfo(), containerId,
                    Sandbox.path(config.workDir(), agentId, framework, key.task(), containerId),
                    t.getState(), t.hasLatestStatus() ? t.getLatestStatus() : null);
            task.checkpoint = true;
            task.healthy = task.latestStatus() != null && task.latestStatus().hasHealthy()
                    ? task.latestStatus().getHealthy() : null;
            task.killRequested = record.getKillRequested();
            task.killReason = record.getKillReason();
            tasks.add(task);
            if (tasks.framework(framework) == null) {
                tasks.framework(FrameworkInfo.newBuilder().setId(framework.toProto()).build());
            }
            updates.restore(key, record);
            ContainerCheckpoint container = containers.remove(containerId);
            if (TaskStates.isTerminal(task.state())) {
                // Its end is known (and maybe not yet acknowledged): only leftovers to clean.
                tasks.move(task, TaskRecord.Phase.TERMINAL);
                if (container != null) {
                    destroyRecorded(container, "its task already ended");
                }
                continue;
            }
            if (container == null) {
                tasks.move(task, TaskRecord.Phase.TERMINAL);
                tasks.report(task, tasks.partitionAware(framework, TaskState.TASK_DROPPED),
                        StatusReason.REASON_AGENT_RESTARTED, "The agent restarted before the task's command started",
                        StatusSource.SOURCE_AGENT, null);
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
        LogContext.set(agentId, null, null);
        LOG.info("Recovered agent {}: {} tasks still run, {} ended while the agent was away, {} containers killed",
                agentId, reattached, ended, killed);
        return new Result(agentId, reattached, ended, killed);
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
            tasks.move(task, TaskRecord.Phase.TERMINAL);
            tasks.report(task, tasks.partitionAware(key.framework(), TaskState.TASK_GONE),
                    StatusReason.REASON_AGENT_REBOOTED, "The host rebooted while the agent was down",
                    StatusSource.SOURCE_AGENT, null);
            return false;
        }
        if (record.getPid() > 0) {
            Optional<Container> container = containerizer.recover(task.containerId, task.sandbox, record.getCgroup(),
                    record.getPid(), record.getStartTime(), statusFile, tasks.containerListener(key));
            if (container.isPresent()) {
                tasks.attach(task, container.get());
                LOG.info("Recovered task {} of framework {}: its launcher (pid {}) still runs", key.task(),
                        key.framework(), record.getPid());
                if (task.killRequested) {
                    tasks.move(task, TaskRecord.Phase.KILLING);
                    containerizer.kill(task.container, tasks.gracePeriod(null, task));
                } else if (task.info.hasHealthCheck()) {
                    restartHealthChecks(task);
                }
                return true;
            }
        }
        int status = record.getPid() > 0 ? LauncherScript.readStatus(statusFile) : -1;
        long oomKills = containerizer.oomKills(task.containerId, record.getCgroup());
        destroyRecorded(record, "its launcher is gone");
        tasks.move(task, TaskRecord.Phase.TERMINAL);
        Integer exit = status >= 0 ? status : null;
        if (oomKills > 0) {
            task.limitation = Limitation.memory(task.limits, 0);
            tasks.report(task, TaskState.TASK_FAILED, task.limitation.reason(), task.limitation.message(),
                    StatusSource.SOURCE_AGENT, exit);
        } else if (task.killRequested) {
            tasks.report(task, TaskState.TASK_KILLED, task.killReason, "Killed while the agent was away",
                    StatusSource.SOURCE_EXECUTOR, exit);
        } else if (status == 0) {
            tasks.report(task, TaskState.TASK_FINISHED, StatusReason.REASON_UNSPECIFIED,
                    "Command exited with status 0", StatusSource.SOURCE_EXECUTOR, 0);
        } else if (status > 0) {
            Termination t = new Termination(status, Termination.KillSignal.NONE);
            tasks.report(task, TaskState.TASK_FAILED, StatusReason.REASON_COMMAND_FAILED, t.describe(),
                    StatusSource.SOURCE_EXECUTOR, status);
        } else {
            tasks.report(task, tasks.partitionAware(key.framework(), TaskState.TASK_GONE),
                    StatusReason.REASON_AGENT_RESTARTED,
                    record.getPid() > 0
                            ? "The task's launcher (pid " + record.getPid() + ") is gone and recorded no exit status"
                            : "The agent restarted while launching the task",
                    StatusSource.SOURCE_AGENT, null);
        }
        LOG.info("Task {} of framework {} ended while the agent was away: {}", key.task(), key.framework(),
                task.latestStatus().getMessage());
        return false;
    }

    /** A reattached task's checks start again: its user is looked up off the loop, as for a launch. */
    private void restartHealthChecks(TaskRecord task) {
        TaskKey key = task.key;
        String user = launcher.taskUser(task);
        ContainerId containerId = task.containerId;
        submit(() -> {
            TaskUser resolved = resolveQuietly(user);
            loop.append(() -> {
                TaskRecord now = tasks.task(key);
                if (now != null && now.containerId.equals(containerId) && now.phase() == TaskRecord.Phase.RUNNING) {
                    tasks.startHealthChecks(now, resolved);
                }
            });
        });
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

    /** Runs {@code job} on a worker, unless the workers are gone (the agent stops). */
    private void submit(Runnable job) {
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            // Stopping: no checks to start.
        }
    }
}

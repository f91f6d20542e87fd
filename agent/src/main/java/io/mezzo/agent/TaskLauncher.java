package io.mezzo.agent;

import io.mezzo.agent.checkpoint.Checkpointer;
import io.mezzo.agent.containerizer.Container;
import io.mezzo.agent.containerizer.ContainerLaunchException;
import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.LaunchSpec;
import io.mezzo.agent.containerizer.Sandbox;
import io.mezzo.agent.containerizer.TaskEnvironment;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.agent.fetcher.FetchException;
import io.mezzo.agent.fetcher.Fetcher;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.CommandURI;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.TaskState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Launches the tasks the master sends: RUN_TASK is checked, the task reported TASK_STARTING, its user,
 * sandbox and URIs prepared on a worker, and its command spawned through the {@link Containerizer}.
 *
 * <pre>
 *   RUN_TASK -> RunTaskValidation -> bad: TASK_ERROR (nothing kept) | known already: ignored
 *            -> TaskRecord (LAUNCHING), framework checkpointed -> TASK_STARTING
 *   next loop event (a KILL_TASK queued meanwhile still wins) -> prepare:
 *     worker: user lookup, sandbox + runtime dir, Fetcher, sandbox given to the user -> back on the loop
 *     -> container record written -> Containerizer.launch (launcher's pid + start time recorded before
 *        the command starts) -> RUNNING, TASK_RUNNING, health checks start
 *   any failure on the way -> TASK_FAILED (TASK_USER_INVALID, FETCHER_FAILED, CONTAINER_LAUNCH_FAILED)
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>The worker gets copies (user name, sandbox paths, URIs) and hands its result back as a loop event;
 *       task state is read and written on the loop only.
 *   <li>A launch goes on only while its task is still LAUNCHING with the same container id: a kill or a
 *       framework shutdown meanwhile ends it where it stands.
 *   <li>A container is recorded before its launcher exists, so a restarted agent finds (and kills) what
 *       a crash in the middle of a launch left.
 * </ol>
 *
 * <p>Thread: the agent's event loop (preparation on workers). Owner: {@link AgentCore}. Stateless: the
 * tasks it launches are {@link TaskLifecycle}'s.
 */
final class TaskLauncher {

    private static final Logger LOG = LoggerFactory.getLogger(TaskLauncher.class);

    /** What preparing a launch off the loop produced: the user to run as (null: the agent's), or why not. */
    private record Prepared(TaskUser user, StatusReason failureReason, String failure, TaskState failedAs) {
        static Prepared ready(TaskUser user) {
            return new Prepared(user, null, null, null);
        }

        static Prepared failed(StatusReason reason, String message) {
            return new Prepared(null, reason, message, TaskState.TASK_FAILED);
        }

        /** The task is invalid here (TASK_ERROR), e.g. it would run as root. */
        static Prepared invalid(StatusReason reason, String message) {
            return new Prepared(null, reason, message, TaskState.TASK_ERROR);
        }
    }

    private final AgentConfig config;
    private final EventLoop loop;
    private final Containerizer containerizer;
    private final Fetcher fetcher;
    private final Executor workers;
    private final Checkpointer checkpointer;
    private final String bootId;
    private final TaskLifecycle tasks;
    private final boolean agentIsRoot = TaskUser.agentIsRoot();

    /**
     * @param workers runs the blocking part of a launch (user lookups, sandboxes, fetching) off the loop
     * @param bootId the host's boot id, recorded with each container
     */
    TaskLauncher(AgentConfig config, EventLoop loop, Containerizer containerizer, Fetcher fetcher, Executor workers,
            Checkpointer checkpointer, String bootId, TaskLifecycle tasks) {
        this.config = config;
        this.loop = loop;
        this.containerizer = containerizer;
        this.fetcher = fetcher;
        this.workers = workers;
        this.checkpointer = checkpointer;
        this.bootId = bootId;
        this.tasks = tasks;
    }

    /** RUN_TASK: validates it, reports TASK_STARTING and prepares the launch as the next loop event. */
    void run(MasterMessage.RunTask run) {
        String frameworkValue = run.getFramework().getId().getValue();
        String taskValue = run.getTask().getTaskId().getValue();
        AgentId agentId = tasks.agentId();
        LogContext.set(agentId, frameworkValue, taskValue);
        if (agentId == null) {
            LOG.warn("Ignored RUN_TASK for task {} of framework {}: the agent has no id yet", taskValue, frameworkValue);
            return;
        }
        String error = RunTaskValidation.validate(run, agentId);
        if (error != null) {
            LOG.warn("Refused task {} of framework {}: {}", taskValue, frameworkValue, error);
            if (!frameworkValue.isEmpty() && !taskValue.isEmpty()) {
                TaskKey key = new TaskKey(FrameworkId.of(frameworkValue), TaskId.of(taskValue));
                if (!tasks.has(key)) {
                    tasks.reportUnknown(key, TaskState.TASK_ERROR, StatusReason.REASON_TASK_INVALID, error);
                }
            }
            return;
        }
        FrameworkId frameworkId = FrameworkId.of(frameworkValue);
        TaskKey key = new TaskKey(frameworkId, TaskId.of(taskValue));
        if (tasks.has(key)) {
            LOG.warn("Ignored RUN_TASK for task {} of framework {}: the agent already has it", key.task(),
                    frameworkId);
            return;
        }
        tasks.framework(run.getFramework());
        String rootError = TaskUserPolicy.check(agentIsRoot, config.switchUser(), config.allowRootTasks(),
                userNamed(run.getTask(), run.getFramework()));
        if (rootError != null) {
            LOG.warn("Refused task {} of framework {}: {}", taskValue, frameworkValue, rootError);
            tasks.reportUnknown(key, TaskState.TASK_ERROR, StatusReason.REASON_TASK_USER_INVALID, rootError);
            return;
        }
        ContainerId containerId = ContainerId.of(UUID.randomUUID().toString());
        Path sandbox = Sandbox.path(config.workDir(), agentId, frameworkId, key.task(), containerId);
        TaskRecord task = new TaskRecord(key, run.getTask(), containerId, sandbox);
        task.checkpoint = run.getFramework().getCheckpoint();
        if (task.checkpoint) {
            checkpointer.framework(run.getFramework());
        }
        tasks.add(task);
        tasks.report(task, TaskState.TASK_STARTING, StatusReason.REASON_UNSPECIFIED, "", StatusSource.SOURCE_EXECUTOR,
                null);
        loop.append(() -> prepare(key, containerId));
    }

    /** The user the task runs as, or "" for the agent's own (not root, or --switch_user off, or none given). */
    String taskUser(TaskRecord task) {
        if (!config.switchUser() || !agentIsRoot) {
            return "";
        }
        return userNamed(task.info, tasks.framework(task.key.framework()));
    }

    /** The user a task names: its command's, else its framework's, else "". */
    private static String userNamed(TaskInfo task, FrameworkInfo framework) {
        String user = task.getCommand().getUser();
        if (user.isEmpty()) {
            user = framework == null ? "" : framework.getUser();
        }
        return user;
    }

    /** Starts the blocking part of a launch on a worker: the task user, the sandbox. */
    private void prepare(TaskKey key, ContainerId containerId) {
        TaskRecord task = launching(key, containerId);
        if (task == null) {
            return;
        }
        // Invariant 1: the worker gets copies.
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
            String rootError = TaskUserPolicy.checkUid(config.allowRootTasks(), userName, user.uid());
            if (rootError != null) {
                return Prepared.invalid(StatusReason.REASON_TASK_USER_INVALID, rootError);
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
        TaskRecord task = tasks.task(key);
        if (tasks.stopped() || task == null || task.phase() != TaskRecord.Phase.LAUNCHING
                || !task.containerId.equals(containerId)) {
            return null;
        }
        LogContext.set(tasks.agentId(), key);
        return task;
    }

    private void prepared(TaskKey key, ContainerId containerId, Prepared prepared) {
        TaskRecord task = launching(key, containerId);
        if (task == null) {
            return;
        }
        if (prepared.failure() != null) {
            launchFailed(task, prepared.failedAs(), prepared.failureReason(), prepared.failure());
            return;
        }
        AgentId agentId = tasks.agentId();
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
                checkpointer.container(record.build());
            } catch (IOException e) {
                throw new ContainerLaunchException("Cannot checkpoint the container: " + e.getMessage(), e);
            }
            Container container = containerizer.launch(spec, tasks.containerListener(key),
                    c -> checkpointer.container(record
                            .setPid((int) c.pid())
                            .setStartTime(c.startTime())
                            .setCgroup(c.isolation().name())
                            .build()));
            tasks.attach(task, container);
            tasks.report(task, TaskState.TASK_RUNNING, StatusReason.REASON_UNSPECIFIED, "",
                    StatusSource.SOURCE_EXECUTOR, null);
            LOG.info("Launched task {} of framework {} as pid {} ({}{}) in {}", key.task(), key.framework(),
                    container.pid(), container.isolation().isolator(),
                    prepared.user() == null ? "" : ", user " + prepared.user().name(), task.sandbox);
            tasks.startHealthChecks(task, prepared.user());
            return;
        } catch (ContainerLaunchException e) {
            failure = e.getMessage();
        }
        launchFailed(task, TaskState.TASK_FAILED, StatusReason.REASON_CONTAINER_LAUNCH_FAILED, failure);
    }

    /** Tasks of frameworks that do not checkpoint die with the agent: their launcher watches it. */
    private Duration watchGrace(TaskRecord task) {
        return task.checkpoint ? null : tasks.gracePeriod(null, task);
    }

    private void launchFailed(TaskRecord task, TaskState state, StatusReason reason, String failure) {
        LOG.warn("Failed to launch task {} of framework {}: {}", task.key.task(), task.key.framework(), failure);
        tasks.move(task, TaskRecord.Phase.TERMINAL);
        tasks.report(task, state, reason, failure, StatusSource.SOURCE_AGENT, null);
    }

    /** Runs {@code job} on a worker; if the workers are gone (the agent stops), runs {@code refused} instead. */
    private void submit(Runnable job, Runnable refused) {
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) {
            refused.run();
        }
    }
}

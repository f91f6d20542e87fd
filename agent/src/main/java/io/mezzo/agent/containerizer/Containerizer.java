package io.mezzo.agent.containerizer;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.CommandInfo;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs command tasks in containers: each command runs under the {@link LauncherScript launcher}, started
 * with {@code setsid} so that it leads a new session and process group whose id is its pid, with the
 * sandbox as working directory, stdout and stderr appended to the sandbox files, and its {@link Isolator}
 * (cgroups or posix) keeping it inside its resources.
 *
 * <pre>
 *   launch: isolator.prepare (cgroup + limits) -> spawn launcher (waits) -> isolator.isolate(pid)
 *           -> beforeStart (the caller checkpoints pid + start time) -> "go" -> command runs
 *   kill:   SIGTERM to the group and to every other process of the container; SIGKILL to all (the
 *           whole cgroup at once) when the grace period has passed on the loop's clock
 *   exit:   the launcher's recorded status -> listener.exited; whatever is left of the container is
 *           SIGKILLed, its cgroup removed once empty -> listener.cleanedUp
 * </pre>
 *
 * <p>Containers launched by an earlier agent are {@link #recover recovered} when their launcher still
 * runs (same pid and start time); their exit is noticed by polling {@code /proc} every {@link
 * #LIVENESS_INTERVAL} on the loop's clock, as they are not this JVM's children.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Each container's exit is reported exactly once, on the loop, to the listener given at launch.
 *   <li>At most one kill timer (tag {@code kill/<container>}) is pending per container, and none after
 *       its exit.
 *   <li>Signals only get stronger: NONE, then SIGTERM, then SIGKILL.
 *   <li>A pid is signalled only while it belongs to the container: a launcher pid whose start time no
 *       longer matches (reused) is never signalled, nor its session.
 * </ol>
 *
 * <p>Thread: the agent's event loop (process exits are appended to it from the JDK's process reaper
 * thread), except {@link #sample}, which a worker calls. Owner: the agent's core, which shares it with
 * the task launcher, the task lifecycle, recovery and the {@link UsageMonitor}. Public only so
 * that the agent's other packages can use it.
 */
public final class Containerizer {

    /** Told of a container's end. Called on the loop. */
    public interface Listener {
        /** The command ended. */
        void exited(Container container, Termination termination);

        /** Everything the container left is gone (its cgroup removed); {@code clean} is false when giving up. */
        default void cleanedUp(Container container, boolean clean) {}
    }

    /** The caller's last step before the command starts (checkpointing the launcher's pid). */
    @FunctionalInterface
    public interface BeforeStart {
        /** Throws to abort the launch. */
        void accept(Container container) throws IOException;
    }

    /** How often recovered launchers are checked for their exit. */
    public static final Duration LIVENESS_INTERVAL = Duration.ofSeconds(1);
    /** Time between attempts to remove an emptied cgroup. */
    static final Duration CLEANUP_RETRY = Duration.ofMillis(100);
    /** Attempts before giving up on a cgroup that will not empty (then an agent restart retries). */
    static final int CLEANUP_ATTEMPTS = 600;

    private static final Logger LOG = LoggerFactory.getLogger(Containerizer.class);
    private static final String LIVENESS = "containers/liveness";

    private final EventLoop loop;
    private final Clock clock;
    private final Map<String, String> agentEnvironment;
    private final Isolator isolator;
    private final Path launcher;
    private final Optional<Path> setsid;
    private final Signals signals;
    // Loop thread only: containers whose exit has not been handled yet.
    private final Map<ContainerId, Container> running = new LinkedHashMap<>();

    /**
     * A containerizer that finds {@code setsid} and {@code kill} on the agent's {@code PATH}.
     *
     * @param agentEnvironment the agent's own environment (tasks get only part of it: see {@link
     *     TaskEnvironment})
     * @param isolator cgroups or posix
     * @param launcher the installed {@link LauncherScript}
     */
    public Containerizer(EventLoop loop, Map<String, String> agentEnvironment, Isolator isolator, Path launcher) {
        this.loop = loop;
        this.clock = loop.clock();
        this.agentEnvironment = Map.copyOf(agentEnvironment);
        this.isolator = isolator;
        this.launcher = launcher;
        String path = agentEnvironment.getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH);
        this.setsid = which("setsid", path, Path.of("/"));
        if (setsid.isEmpty()) {
            LOG.warn("Cannot launch tasks: setsid (util-linux) is not on PATH {}", path);
        }
        this.signals = Signals.onPath(path);
    }

    /** A posix isolator using the programs on the agent's {@code PATH}. */
    public static Isolator posixIsolator(Map<String, String> agentEnvironment) {
        return new PosixIsolator(Signals.onPath(agentEnvironment.getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH)));
    }

    /** The agent's environment, from which tasks take PATH, LANG and TZ. */
    public Map<String, String> agentEnvironment() {
        return agentEnvironment;
    }

    /** The isolator. */
    public Isolator isolator() {
        return isolator;
    }

    /**
     * Starts {@code spec}'s command. Loop thread.
     *
     * @param listener told on the loop when the command has exited and when the container is cleaned up
     * @param beforeStart run once the launcher is isolated, before the command starts
     * @throws ContainerLaunchException if the program cannot be found, the container cannot be isolated,
     *     the process cannot be spawned, or {@code beforeStart} fails
     */
    public Container launch(LaunchSpec spec, Listener listener, BeforeStart beforeStart)
            throws ContainerLaunchException {
        if (setsid.isEmpty()) {
            throw new ContainerLaunchException("setsid (util-linux) is not installed on the agent");
        }
        CommandInfo command = spec.command();
        boolean shell = !command.getShell().isEmpty();
        if (shell == command.getArgvCount() > 0) {
            throw new ContainerLaunchException("Command must set exactly one of shell and argv");
        }
        List<String> argv = new ArrayList<>(List.of(
                setsid.get().toString(),
                "/bin/sh",
                launcher.toString(),
                spec.statusFile().toString(),
                spec.watchGrace() == null ? "-" : Long.toString(Math.max(0, spec.watchGrace().toSeconds())),
                spec.user() == null ? "-" : spec.user(),
                "--"));
        if (shell) {
            argv.add("/bin/sh");
            argv.add("-c");
            argv.add(command.getShell());
        } else {
            // The launcher would exec the program only after the fork, where a missing program is just
            // exit status 127; looking it up first turns that into a launch failure with a clear message.
            String program = command.getArgv(0);
            String path = spec.environment().getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH);
            if (which(program, path, spec.sandbox()).isEmpty()) {
                throw new ContainerLaunchException(program.indexOf('/') >= 0
                        ? "Program '" + program + "' does not exist or is not executable"
                        : "Program '" + program + "' is not found on PATH " + path);
            }
            argv.addAll(command.getArgvList());
        }
        Isolation isolation;
        try {
            isolation = isolator.prepare(spec.containerId(), spec.limits());
        } catch (IOException e) {
            throw new ContainerLaunchException("Cannot isolate the container: " + e.getMessage(), e);
        }
        ProcessBuilder builder = new ProcessBuilder(argv)
                .directory(spec.sandbox().toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.sandbox().resolve(Sandbox.STDOUT).toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(spec.sandbox().resolve(Sandbox.STDERR).toFile()));
        builder.environment().clear();
        builder.environment().putAll(spec.environment());
        Process process;
        try {
            Files.deleteIfExists(spec.statusFile());
            process = builder.start();
        } catch (IOException e) {
            cleanupQuietly(isolation);
            throw new ContainerLaunchException("Cannot spawn the command: " + e.getMessage(), e);
        }
        long pid = process.pid();
        OptionalLong startTime = ProcTable.startTime(pid);
        Container container = new Container(spec.containerId(), spec.sandbox(), isolation, pid,
                startTime.orElse(0), spec.statusFile(), process);
        container.listener = listener;
        try {
            if (startTime.isEmpty()) {
                throw new IOException("the launcher (pid " + pid + ") ended at once");
            }
            isolator.isolate(isolation, pid);
            beforeStart.accept(container);
            OutputStream input = process.getOutputStream();
            input.write("go\n".getBytes(StandardCharsets.US_ASCII));
            input.flush();
            if (spec.watchGrace() == null) {
                input.close();
            } else {
                // Held open: the launcher stops the task when this end closes with the agent's process.
                container.launcherInput = input;
            }
        } catch (IOException e) {
            process.destroyForcibly();
            // The command never started; the cgroup goes once the launcher is gone.
            process.onExit().whenComplete((p, error) -> loop.append(() -> cleanupQuietly(isolation)));
            throw new ContainerLaunchException("Cannot start the container: " + e.getMessage(), e);
        }
        running.put(container.id(), container);
        // The reaper thread only hands the news over; the loop does the rest (invariant 1).
        process.onExit().whenComplete((p, error) -> loop.append(() -> exited(container)));
        LOG.debug("Spawned container {} as pid {} ({}): {}", container.id(), pid, isolation.isolator(), argv);
        return container;
    }

    /**
     * Re-attaches to a container an earlier agent launched, if its launcher still runs: same pid and
     * same start time (a pid reused by another process is never adopted). Loop thread.
     *
     * @param isolationName the checkpointed cgroup name (empty for posix)
     * @return the container, or empty when its launcher is gone
     */
    public Optional<Container> recover(ContainerId id, Path sandbox, String isolationName, long pid, long startTime,
            Path statusFile, Listener listener) {
        if (!ProcTable.isRunning(pid, startTime)) {
            return Optional.empty();
        }
        Container container = new Container(id, sandbox, isolator.recover(id, isolationName), pid, startTime,
                statusFile, null);
        container.listener = listener;
        running.put(id, container);
        scheduleLiveness();
        return Optional.of(container);
    }

    /**
     * Kills whatever is left of a container that is not running here (recovered with its launcher gone,
     * or of a framework without checkpointing) and removes its cgroup. Loop thread.
     *
     * @param pid the launcher's checkpointed pid, or 0 when unknown; with its start time, it is used
     *     only if it still belongs to the container
     * @return completed on the loop once the container is cleaned up; exceptionally if it cannot be
     */
    public CompletableFuture<Void> destroy(ContainerId id, String isolationName, long pid, long startTime) {
        Isolation isolation = isolator.recover(id, isolationName);
        long leader = trustedLeader(pid, startTime);
        String marker = TaskEnvironment.CONTAINER_ID + "=" + id.value();
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (leader > 0) {
            signals.group(leader, "KILL");
        }
        isolator.killAll(isolation, leader, marker);
        // Its own timer tag: the container may also be exiting here, and that cleanup must not replace this one.
        cleanupLater("destroy/" + id, id, isolation, leader, marker, 0, done);
        return done;
    }

    /**
     * Stops a container: SIGTERM now, SIGKILL after {@code gracePeriod} if it still runs. A second call
     * may only shorten the grace period. Loop thread.
     */
    public void kill(Container container, Duration gracePeriod) {
        if (container.exited) {
            return;
        }
        Duration grace = gracePeriod.isNegative() ? Duration.ZERO : gracePeriod;
        long deadline = clock.millis() + grace.toMillis();
        switch (container.signalSent) {
            case NONE -> {
                container.signalSent = Termination.KillSignal.SIGTERM;
                container.killDeadlineMillis = deadline;
                if (grace.isZero()) {
                    escalate(container);
                    return;
                }
                signalAll(container, false);
                loop.schedule(killTag(container), grace, () -> escalate(container));
                LOG.debug("Sent SIGTERM to container {} (process group {}), SIGKILL in {}", container.id(),
                        container.pid(), grace);
            }
            case SIGTERM -> {
                if (deadline < container.killDeadlineMillis) {
                    container.killDeadlineMillis = deadline;
                    loop.schedule(killTag(container), grace, () -> escalate(container));
                }
            }
            case SIGKILL -> {
                // Nothing stronger to send.
            }
        }
    }

    /**
     * SIGKILLs every running container (the agent stops and kills its tasks). Loop thread.
     *
     * @return futures completed as the launchers this JVM started go away, for the caller to wait on
     *     (off the loop)
     */
    public List<CompletableFuture<?>> destroyAll() {
        return destroy(List.copyOf(running.values()));
    }

    /**
     * SIGKILLs {@code containers} (the agent stops). Loop thread.
     *
     * @return futures completed as those launched by this JVM go away
     */
    public List<CompletableFuture<?>> destroy(List<Container> containers) {
        List<CompletableFuture<?>> gone = new ArrayList<>();
        for (Container container : containers) {
            if (container.exited) {
                continue;
            }
            loop.cancel(killTag(container));
            container.signalSent = Termination.KillSignal.SIGKILL;
            signalAll(container, true);
            if (container.process() != null) {
                gone.add(container.process().onExit());
            }
        }
        return gone;
    }

    /**
     * How many processes of a container the kernel killed for exceeding its memory, read from its
     * checkpointed cgroup (0 for posix, or when the cgroup is gone). Loop thread.
     */
    public long oomKills(ContainerId id, String isolationName) {
        if (!isolator.enforcesMemory()) {
            return 0;
        }
        return isolator.sample(isolator.recover(id, isolationName), -1,
                TaskEnvironment.CONTAINER_ID + "=" + id.value()).oomKills();
    }

    /** Containers whose command has not exited yet. Loop thread. */
    public List<Container> running() {
        return List.copyOf(running.values());
    }

    /** The container's usage now. Any thread (the agent calls it on a worker). */
    public UsageSample sample(Container container) {
        return isolator.sample(container.isolation(), trustedLeader(container.pid(), container.startTime()),
                container.marker());
    }

    private void escalate(Container container) {
        // A command that died just now has its exit queued behind this timer: let that event report it.
        if (container.exited || !ProcTable.isRunning(container.pid(), container.startTime())) {
            return;
        }
        container.signalSent = Termination.KillSignal.SIGKILL;
        signalAll(container, true);
        LOG.debug("Sent SIGKILL to container {}", container.id());
    }

    /**
     * SIGTERM: the container's process group, and one by one every other process of the container (so a
     * program that counts SIGTERMs is not signalled twice). SIGKILL: everything, at once where the
     * isolator can (the whole cgroup).
     */
    private void signalAll(Container container, boolean forcibly) {
        long leader = trustedLeader(container.pid(), container.startTime());
        if (leader > 0) {
            signals.group(leader, forcibly ? "KILL" : "TERM");
        }
        if (forcibly) {
            isolator.killAll(container.isolation(), leader, container.marker());
            // Handles carry their start time, so a stray whose pid was reused meanwhile is spared.
            container.signalled.forEach(ProcessHandle::destroyForcibly);
            return;
        }
        for (long pid : isolator.members(container.isolation(), leader, container.marker())) {
            Optional<ProcTable.Proc> p = ProcTable.read(pid);
            if (p.isPresent() && p.get().pgrp() != leader) {
                ProcessHandle.of(pid).ifPresent(h -> {
                    h.destroy();
                    container.signalled.add(h);
                });
            }
        }
    }

    private void exited(Container container) {
        if (container.exited) {
            return;
        }
        container.exited = true;
        running.remove(container.id());
        loop.cancel(killTag(container));
        closeInput(container);
        int status = LauncherScript.readStatus(container.statusFile());
        if (status < 0 && container.process() != null) {
            // The launcher recorded nothing (it was killed): its own end is the best we know.
            status = container.process().exitValue();
        }
        UsageSample last = isolator.enforcesMemory() ? sample(container) : UsageSample.EMPTY;
        Termination termination = new Termination(status, container.signalSent, last.oomKills(), last.memPeakBytes());
        LOG.debug("Container {} exited: {}", container.id(), termination);
        container.listener.exited(container, termination);
        // As Mesos destroys a container when its executor ends: what the command left behind goes too.
        long leader = trustedLeader(container.pid(), container.startTime());
        if (leader > 0) {
            signals.group(leader, "KILL");
        }
        isolator.killAll(container.isolation(), leader, container.marker());
        container.signalled.forEach(ProcessHandle::destroyForcibly);
        CompletableFuture<Void> cleaned = new CompletableFuture<>();
        cleaned.whenComplete((v, error) -> container.listener.cleanedUp(container, error == null));
        cleanupLater("cleanup/" + container.id(), container.id(), container.isolation(), leader, container.marker(), 0,
                cleaned);
    }

    /**
     * Removes the container's cgroup once it has no process left, retrying on the loop's clock under
     * {@code tag} (one tag per cleanup, so that two cleanups of one container never cancel each other).
     */
    private void cleanupLater(String tag, ContainerId id, Isolation isolation, long leader, String marker, int attempt,
            CompletableFuture<Void> done) {
        if (isolation.dirs().isEmpty()) {
            done.complete(null);
            return;
        }
        List<Long> left = isolator.members(isolation, leader, marker);
        String why;
        if (left.isEmpty()) {
            try {
                isolator.cleanup(isolation);
                LOG.debug("Removed cgroup {} of container {}", isolation.name(), id);
                done.complete(null);
                return;
            } catch (IOException e) {
                why = e.getMessage();
            }
        } else {
            why = left.size() + " processes are still in it: " + left;
            if (attempt % 10 == 9) {
                // Something forked while being killed: kill again.
                isolator.killAll(isolation, leader, marker);
            }
        }
        if (attempt >= CLEANUP_ATTEMPTS) {
            LOG.warn("Gave up removing cgroup {} of container {}: {}", isolation.name(), id, why);
            done.completeExceptionally(new IOException(why));
            return;
        }
        loop.schedule(tag, CLEANUP_RETRY, () -> cleanupLater(tag, id, isolation, leader, marker, attempt + 1, done));
    }

    private void cleanupQuietly(Isolation isolation) {
        try {
            isolator.cleanup(isolation);
        } catch (IOException e) {
            LOG.debug("Cannot remove {} yet: {}", isolation.name(), e.getMessage());
        }
    }

    private void scheduleLiveness() {
        if (!loop.isScheduled(LIVENESS)) {
            loop.schedule(LIVENESS, LIVENESS_INTERVAL, this::checkLiveness);
        }
    }

    private void checkLiveness() {
        boolean watching = false;
        for (Container container : List.copyOf(running.values())) {
            if (!container.recovered()) {
                continue;
            }
            if (ProcTable.isRunning(container.pid(), container.startTime())) {
                watching = true;
            } else {
                exited(container);
            }
        }
        if (watching) {
            scheduleLiveness();
        }
    }

    private static void closeInput(Container container) {
        if (container.launcherInput != null) {
            try {
                container.launcherInput.close();
            } catch (IOException e) {
                // The launcher is gone; nothing to tell it.
            }
            container.launcherInput = null;
        }
    }

    /**
     * The launcher pid if it may be signalled: it still is the checkpointed process (same start time),
     * or it is gone altogether (its session id cannot have been reused while members remain). -1 when
     * the pid now belongs to another process (invariant 4).
     */
    static long trustedLeader(long pid, long startTime) {
        if (pid <= 0) {
            return -1;
        }
        return ProcTable.read(pid).map(p -> p.startTime() == startTime ? pid : -1L).orElse(pid);
    }

    private static String killTag(Container container) {
        return "kill/" + container.id();
    }

    /**
     * Finds an executable the way {@code execvp} would: a name with a '/' is taken relative to {@code
     * cwd}, any other is looked up in each directory of {@code path}.
     */
    public static Optional<Path> which(String program, String path, Path cwd) {
        if (program.isEmpty()) {
            return Optional.empty();
        }
        if (program.indexOf('/') >= 0) {
            Path p = cwd.resolve(program);
            return isExecutableFile(p) ? Optional.of(p) : Optional.empty();
        }
        for (String dir : path.split(":")) {
            Path p = (dir.isEmpty() ? cwd : cwd.resolve(dir)).resolve(program);
            if (isExecutableFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static boolean isExecutableFile(Path p) {
        return Files.isRegularFile(p) && Files.isExecutable(p);
    }
}

package io.mezzo.agent.containerizer;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.CommandInfo;
import java.io.File;
import java.io.IOException;
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
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs command tasks as plain processes (the Mesos "posix" launcher): each command runs under {@code
 * setsid}, so it leads a new session and process group whose id is its pid, with its sandbox as working
 * directory, stdout and stderr appended to the sandbox files and stdin from {@code /dev/null}.
 *
 * <p>Stopping a container: {@link #kill} sends SIGTERM to the process group and to every descendant
 * that has left the group, then SIGKILL to the same once the grace period has passed on the loop's
 * clock. When the command exits, whatever is left of the container (its group, and the processes
 * signalled one by one) is SIGKILLed, as Mesos destroys a container when its executor ends.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>Each launched container's exit is reported exactly once, on the loop, to the listener given at
 *       launch.
 *   <li>At most one kill timer (tag {@code kill/<container>}) is pending per container, and none after
 *       its exit.
 *   <li>Signals only get stronger: NONE, then SIGTERM, then SIGKILL.
 * </ol>
 *
 * <p>Thread: the agent's event loop (process exits are appended to it from the JDK's process reaper
 * thread). Owner: the agent's task manager. Public only so that the agent's other packages can use it.
 */
public final class PosixContainerizer {

    private static final Logger LOG = LoggerFactory.getLogger(PosixContainerizer.class);
    private static final File DEV_NULL = new File("/dev/null");

    private final EventLoop loop;
    private final Clock clock;
    private final Map<String, String> agentEnvironment;
    private final Optional<Path> setsid;
    private final Signals signals;
    // Loop thread only: containers whose exit has not been handled yet.
    private final Map<ContainerId, Container> running = new LinkedHashMap<>();

    /**
     * A containerizer that finds {@code setsid} and {@code kill} on the agent's {@code PATH}.
     *
     * @param agentEnvironment the agent's own environment (tasks get only part of it: see {@link
     *     TaskEnvironment})
     */
    public PosixContainerizer(EventLoop loop, Map<String, String> agentEnvironment) {
        this.loop = loop;
        this.clock = loop.clock();
        this.agentEnvironment = Map.copyOf(agentEnvironment);
        String path = agentEnvironment.getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH);
        this.setsid = which("setsid", path, Path.of("/"));
        Optional<Path> kill = which("kill", path, Path.of("/"));
        if (setsid.isEmpty()) {
            LOG.warn("Cannot launch tasks: setsid (util-linux) is not on PATH {}", path);
        }
        if (kill.isEmpty()) {
            LOG.warn("kill (procps) is not on PATH {}: tasks are signalled process by process", path);
        }
        this.signals = new Signals(kill.orElse(null));
    }

    /** The agent's environment, from which tasks take PATH, LANG and TZ. */
    public Map<String, String> agentEnvironment() {
        return agentEnvironment;
    }

    /**
     * Starts {@code spec}'s command. Loop thread.
     *
     * @param onExit told on the loop when the command has exited
     * @throws ContainerLaunchException if the program cannot be found or the process cannot be spawned
     */
    public Container launch(LaunchSpec spec, BiConsumer<Container, Termination> onExit)
            throws ContainerLaunchException {
        if (setsid.isEmpty()) {
            throw new ContainerLaunchException("setsid (util-linux) is not installed on the agent");
        }
        CommandInfo command = spec.command();
        List<String> argv = new ArrayList<>();
        argv.add(setsid.get().toString());
        boolean shell = !command.getShell().isEmpty();
        if (shell == command.getArgvCount() > 0) {
            throw new ContainerLaunchException("Command must set exactly one of shell and argv");
        }
        if (shell) {
            argv.add("/bin/sh");
            argv.add("-c");
            argv.add(command.getShell());
        } else {
            // setsid would exec the program only after the fork, where a missing program is just exit
            // status 127; looking it up first turns that into a launch failure with a clear message.
            String program = command.getArgv(0);
            String path = spec.environment().getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH);
            if (which(program, path, spec.sandbox()).isEmpty()) {
                throw new ContainerLaunchException(program.indexOf('/') >= 0
                        ? "Program '" + program + "' does not exist or is not executable"
                        : "Program '" + program + "' is not found on PATH " + path);
            }
            argv.addAll(command.getArgvList());
        }
        ProcessBuilder builder = new ProcessBuilder(argv)
                .directory(spec.sandbox().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        spec.sandbox().resolve(Sandbox.STDOUT).toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(
                        spec.sandbox().resolve(Sandbox.STDERR).toFile()));
        builder.environment().clear();
        builder.environment().putAll(spec.environment());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new ContainerLaunchException("Cannot spawn the command: " + e.getMessage(), e);
        }
        Container container = new Container(spec.containerId(), spec.sandbox(), process);
        running.put(container.id(), container);
        // The reaper thread only hands the news over; the loop does the rest (invariant 1).
        process.onExit().whenComplete((p, error) -> loop.append(() -> exited(container, onExit)));
        LOG.debug("Spawned container {} as pid {}: {}", container.id(), process.pid(), argv);
        return container;
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
     * SIGKILLs every running container (the agent stops). Loop thread.
     *
     * @return futures completed as the killed processes go away, for the caller to wait on (off the loop)
     */
    public List<CompletableFuture<?>> destroyAll() {
        List<CompletableFuture<?>> gone = new ArrayList<>();
        for (Container container : running.values()) {
            loop.cancel(killTag(container));
            container.signalSent = Termination.KillSignal.SIGKILL;
            gone.addAll(signalAll(container, true));
        }
        return gone;
    }

    /** Containers whose command has not exited yet. Loop thread. */
    public List<Container> running() {
        return List.copyOf(running.values());
    }

    private void escalate(Container container) {
        // A command that died just now has its exit queued behind this timer: let that event report it.
        if (container.exited || !container.process().isAlive()) {
            return;
        }
        container.signalSent = Termination.KillSignal.SIGKILL;
        signalAll(container, true);
        LOG.debug("Sent SIGKILL to container {} after its grace period", container.id());
    }

    /**
     * Signals the container's process group and, one by one, the processes outside it (descendants that
     * left the group, and any signalled before).
     */
    private List<CompletableFuture<?>> signalAll(Container container, boolean forcibly) {
        List<CompletableFuture<?>> gone = new ArrayList<>();
        long group = container.pid();
        List<ProcessHandle> strays = new ArrayList<>(container.signalled);
        container.process().descendants().forEach(h -> {
            OptionalLong pgid = Signals.processGroupOf(h.pid());
            // Members of the group get the group signal; signalling them twice could read as "hurry up"
            // to a program that counts SIGTERMs.
            if ((pgid.isEmpty() || pgid.getAsLong() != group) && !strays.contains(h)) {
                strays.add(h);
            }
            if (forcibly) {
                gone.add(h.onExit());
            }
        });
        Optional<Process> kill = signals.group(group, forcibly ? "KILL" : "TERM");
        if (kill.isPresent()) {
            gone.add(kill.get().onExit());
        } else {
            // No kill(1): signal the leader and every descendant we can see.
            container.process().descendants().forEach(h -> {
                if (!strays.contains(h)) {
                    strays.add(h);
                }
            });
            if (forcibly) {
                container.process().destroyForcibly();
            } else {
                container.process().destroy();
            }
        }
        for (ProcessHandle h : strays) {
            if (forcibly) {
                h.destroyForcibly();
                gone.add(h.onExit());
            } else {
                h.destroy();
            }
        }
        container.signalled.clear();
        container.signalled.addAll(strays);
        if (forcibly) {
            container.process().destroyForcibly();
            gone.add(container.process().onExit());
        }
        return gone;
    }

    private void exited(Container container, BiConsumer<Container, Termination> onExit) {
        if (container.exited) {
            return;
        }
        container.exited = true;
        running.remove(container.id());
        loop.cancel(killTag(container));
        int exitValue = container.process().exitValue();
        // The container ends with its command: what it left behind in its group, and the strays signalled
        // earlier, are killed now.
        signals.group(container.pid(), "KILL");
        container.signalled.forEach(ProcessHandle::destroyForcibly);
        onExit.accept(container, new Termination(exitValue, container.signalSent));
    }

    private static String killTag(Container container) {
        return "kill/" + container.id();
    }

    /**
     * Finds an executable the way {@code execvp} would: a name with a '/' is taken relative to {@code
     * cwd}, any other is looked up in each directory of {@code path}.
     */
    static Optional<Path> which(String program, String path, Path cwd) {
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

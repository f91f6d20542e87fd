package io.mezzo.agent.containerizer;

import io.mezzo.common.id.ContainerId;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One running command: its launcher process, which leads its own session and process group (so the
 * process group id is {@link #pid()}), its isolation, and its sandbox.
 *
 * <p>A container is either launched by this agent (it has the launcher's {@link Process}) or recovered
 * after an agent restart (it only has the launcher's pid and start time; its exit is noticed by polling
 * {@code /proc}).
 *
 * <p>Thread: the agent's event loop, except the immutable identity fields ({@link #id()}, {@link
 * #pid()}, {@link #startTime()}, {@link #sandbox()}, {@link #isolation()}), which any thread may read.
 * Owner: the {@link Containerizer} that launched or recovered it.
 */
public final class Container {

    private final ContainerId id;
    private final Path sandbox;
    private final Isolation isolation;
    private final long pid;
    private final long startTime;
    private final Path statusFile;
    private final Process process;

    // Loop thread only.
    Termination.KillSignal signalSent = Termination.KillSignal.NONE;
    long killDeadlineMillis;
    boolean exited;
    OutputStream launcherInput;
    Containerizer.Listener listener;
    // Processes signalled one by one because they had left the group; signalled again with SIGKILL.
    final List<ProcessHandle> signalled = new ArrayList<>();

    Container(ContainerId id, Path sandbox, Isolation isolation, long pid, long startTime, Path statusFile,
            Process process) {
        this.id = id;
        this.sandbox = sandbox;
        this.isolation = isolation;
        this.pid = pid;
        this.startTime = startTime;
        this.statusFile = statusFile;
        this.process = process;
    }

    /** The container id. */
    public ContainerId id() {
        return id;
    }

    /** The sandbox directory. */
    public Path sandbox() {
        return sandbox;
    }

    /** How it is isolated. */
    public Isolation isolation() {
        return isolation;
    }

    /** The launcher's pid, which is also the session and process group id. */
    public long pid() {
        return pid;
    }

    /** The launcher's start time in clock ticks after boot: with the pid, it identifies the process. */
    public long startTime() {
        return startTime;
    }

    /** Where the launcher records the command's exit status. */
    public Path statusFile() {
        return statusFile;
    }

    /** True when this agent recovered the container rather than launching it. */
    public boolean recovered() {
        return process == null;
    }

    /** The launcher's process handle (for tests and logs). */
    public ProcessHandle handle() {
        return process != null ? process.toHandle() : ProcessHandle.of(pid).orElse(null);
    }

    /** The environment entry every process of the container inherits. */
    public String marker() {
        return TaskEnvironment.CONTAINER_ID + "=" + id.value();
    }

    /** The strongest signal the agent has sent so far. Loop thread. */
    public Termination.KillSignal signalSent() {
        return signalSent;
    }

    /** True once the exit was handled. Loop thread. */
    public boolean isExited() {
        return exited;
    }

    Process process() {
        return process;
    }

    @Override
    public String toString() {
        return "Container[" + id + " pid " + pid + " " + isolation.isolator() + "]";
    }
}

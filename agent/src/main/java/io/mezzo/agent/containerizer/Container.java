package io.mezzo.agent.containerizer;

import io.mezzo.common.id.ContainerId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One running command: its process, which leads its own session and process group (so the process
 * group id is {@link #pid()}), and its sandbox.
 *
 * <p>Thread: the agent's event loop, except {@link #pid()}, {@link #id()} and {@link #sandbox()},
 * which are immutable. Owner: the {@link PosixContainerizer} that launched it.
 */
public final class Container {

    private final ContainerId id;
    private final Path sandbox;
    private final Process process;

    // Loop thread only.
    Termination.KillSignal signalSent = Termination.KillSignal.NONE;
    long killDeadlineMillis;
    boolean exited;
    // Processes signalled one by one because they had left the group; signalled again with SIGKILL.
    final List<ProcessHandle> signalled = new ArrayList<>();

    Container(ContainerId id, Path sandbox, Process process) {
        this.id = id;
        this.sandbox = sandbox;
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

    /** The command's pid, which is also its session and process group id. */
    public long pid() {
        return process.pid();
    }

    /** The command's process handle. */
    public ProcessHandle handle() {
        return process.toHandle();
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
        return "Container[" + id + " pid " + process.pid() + "]";
    }
}

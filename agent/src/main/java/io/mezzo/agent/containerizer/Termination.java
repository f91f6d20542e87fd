package io.mezzo.agent.containerizer;

import java.util.OptionalInt;

/**
 * How a container's command ended.
 *
 * <p>{@code exitValue} is what Java reports: the exit status, or 128 + the signal number when the
 * process was killed by a signal. A shell whose child was killed by a signal also exits with 128 + the
 * signal number, so values 129 to 192 are read as "terminated by signal" either way, as shells do.
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 *
 * @param exitValue the process's exit value
 * @param killedWith the strongest signal the agent had sent when the process ended
 */
public record Termination(int exitValue, KillSignal killedWith) {

    /** Signals the agent sends to stop a container. */
    public enum KillSignal {
        /** The agent sent nothing: the command ended by itself. */
        NONE,
        /** The agent sent SIGTERM (the grace period was running). */
        SIGTERM,
        /** The agent sent SIGKILL (after the grace period, or when the agent stops). */
        SIGKILL
    }

    /** The signal that ended the command, if the exit value is 128 + a signal number. */
    public OptionalInt signal() {
        return exitValue > 128 && exitValue <= 128 + 64 ? OptionalInt.of(exitValue - 128) : OptionalInt.empty();
    }

    /** True when the command exited with status 0. */
    public boolean succeeded() {
        return exitValue == 0;
    }

    /** "Command exited with status N" or "Command terminated by signal S". */
    public String describe() {
        OptionalInt signal = signal();
        return signal.isPresent()
                ? "Command terminated by signal " + signal.getAsInt()
                : "Command exited with status " + exitValue;
    }
}

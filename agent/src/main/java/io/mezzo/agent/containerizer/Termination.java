package io.mezzo.agent.containerizer;

import java.util.OptionalInt;

/**
 * How a container's command ended.
 *
 * <p>{@code exitValue} is the command's exit status as its launcher recorded it, or, when the launcher
 * recorded none (it was killed itself), what Java reports for the launcher: the exit status, or 128 +
 * the signal number. A shell whose child was killed by a signal also exits with 128 + the signal number,
 * so values 129 to 192 are read as "terminated by signal" either way, as shells do. It is -1 when nobody
 * knows (a container recovered after an agent restart whose launcher was killed).
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 *
 * @param exitValue the command's exit value, or -1 when unknown
 * @param killedWith the strongest signal the agent had sent when the process ended
 * @param oomKills processes of the container the kernel killed for exceeding its memory limit
 * @param memPeakBytes the container's highest memory use, when the isolator knows it (else 0)
 */
public record Termination(int exitValue, KillSignal killedWith, long oomKills, long memPeakBytes) {

    /** Signals the agent sends to stop a container. */
    public enum KillSignal {
        /** The agent sent nothing: the command ended by itself. */
        NONE,
        /** The agent sent SIGTERM (the grace period was running). */
        SIGTERM,
        /** The agent sent SIGKILL (after the grace period, or when the agent stops). */
        SIGKILL
    }

    /** A termination without memory facts (tests, posix). */
    public Termination(int exitValue, KillSignal killedWith) {
        this(exitValue, killedWith, 0, 0);
    }

    /** True when the exit status is known. */
    public boolean known() {
        return exitValue >= 0;
    }

    /** The signal that ended the command, if the exit value is 128 + a signal number. */
    public OptionalInt signal() {
        return exitValue > 128 && exitValue <= 128 + 64 ? OptionalInt.of(exitValue - 128) : OptionalInt.empty();
    }

    /** True when the command exited with status 0. */
    public boolean succeeded() {
        return exitValue == 0;
    }

    /** "Command exited with status N", "Command terminated by signal S", or why nothing is known. */
    public String describe() {
        if (!known()) {
            return "Command ended while its launcher could not record its exit status";
        }
        OptionalInt signal = signal();
        return signal.isPresent()
                ? "Command terminated by signal " + signal.getAsInt()
                : "Command exited with status " + exitValue;
    }
}

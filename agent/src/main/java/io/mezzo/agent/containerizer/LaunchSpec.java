package io.mezzo.agent.containerizer;

import io.mezzo.common.id.ContainerId;
import io.mezzo.proto.v1.CommandInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What to run in a container: the command, its sandbox (created beforehand, it becomes the working
 * directory), its complete environment (see {@link TaskEnvironment}), its limits, the user to run as,
 * where its launcher records the exit status, and whether the task must die with the agent.
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 *
 * @param containerId the container
 * @param sandbox the sandbox directory (working directory, stdout and stderr)
 * @param command the command
 * @param environment the complete environment
 * @param limits what the container may use
 * @param user {@code UID:GID} to switch to, or null to run as the agent's user
 * @param statusFile where the launcher records the command's exit status
 * @param watchGrace when non-null, the task is stopped if the agent dies (SIGTERM, SIGKILL after this
 *     grace period): its framework does not checkpoint
 */
public record LaunchSpec(
        ContainerId containerId,
        Path sandbox,
        CommandInfo command,
        Map<String, String> environment,
        Limits limits,
        String user,
        Path statusFile,
        Duration watchGrace) {

    /** Copies the environment and rejects nulls. */
    public LaunchSpec {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(sandbox, "sandbox");
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(statusFile, "statusFile");
        environment = Map.copyOf(environment);
    }

    /** A spec without limits or user, recording the status in the sandbox's parent (tests). */
    public LaunchSpec(ContainerId containerId, Path sandbox, CommandInfo command, Map<String, String> environment) {
        this(containerId, sandbox, command, environment, Limits.NONE, null,
                sandbox.resolveSibling(containerId.value() + ".exit_status"), null);
    }

    /** Container id first, as in log lines. */
    @Override
    public String toString() {
        return "LaunchSpec[" + containerId + " in " + sandbox + "]";
    }
}

package io.mezzo.agent.containerizer;

import io.mezzo.common.id.ContainerId;
import io.mezzo.proto.v1.CommandInfo;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * What to run in a container: the command, its sandbox (created beforehand, it becomes the working
 * directory) and its complete environment (see {@link TaskEnvironment}).
 *
 * <p>Immutable; any thread. Public only so that the agent's other packages can use it.
 */
public record LaunchSpec(ContainerId containerId, Path sandbox, CommandInfo command, Map<String, String> environment) {

    /** Copies the environment and rejects nulls. */
    public LaunchSpec {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(sandbox, "sandbox");
        Objects.requireNonNull(command, "command");
        environment = Map.copyOf(environment);
    }

    /** Container id first, as in log lines. */
    @Override
    public String toString() {
        return "LaunchSpec[" + containerId + " in " + sandbox + "]";
    }
}

package io.mezzo.agent.containerizer;

/**
 * A container could not be started: the program does not exist, the sandbox cannot be written, the
 * process cannot be spawned. Its message is one sentence fit for a TASK_FAILED update.
 *
 * <p>Thrown on the agent's event loop by {@link PosixContainerizer#launch}. Public only so that the
 * agent's other packages can catch it.
 */
public final class ContainerLaunchException extends Exception {

    private static final long serialVersionUID = 1L;

    /** A failure described by {@code message}. */
    public ContainerLaunchException(String message) {
        super(message);
    }

    /** A failure described by {@code message}, caused by {@code cause}. */
    public ContainerLaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.mezzo.agent.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be read back: truncated, overwritten, or not a checkpoint at all. Its
 * message names the file, so that an operator knows what to inspect (or to restart with {@code
 * --recover=cleanup}); the agent refuses to start rather than lose a running task's record.
 *
 * <p>Thrown by {@link CheckpointFile#read} on the thread that starts the agent.
 */
public final class CorruptCheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** The checkpoint {@code file} is unreadable because of {@code why}. */
    public CorruptCheckpointException(Path file, String why, Throwable cause) {
        super("corrupt checkpoint file " + file + ": " + why, cause);
        this.file = file;
    }

    /** The corrupt file. */
    public Path file() {
        return file;
    }
}

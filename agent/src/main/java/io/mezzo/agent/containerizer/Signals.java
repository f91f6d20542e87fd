package io.mezzo.agent.containerizer;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends signals to process groups. Java can signal one process ({@link ProcessHandle#destroy()}) but not
 * a group, so this runs the system's {@code kill -s SIG -- -PGID}, without waiting for it: the agent's
 * loop must not block on a child.
 *
 * <p>Stateless apart from the program path; any thread.
 */
final class Signals {

    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

    private final Path killProgram;

    /** Signals with the {@code kill} program found on {@code path}, or process by process without one. */
    static Signals onPath(String path) {
        Optional<Path> kill = Containerizer.which("kill", path, Path.of("/"));
        if (kill.isEmpty()) {
            LOG.warn("kill (procps) is not on PATH {}: tasks are signalled process by process", path);
        }
        return new Signals(kill.orElse(null));
    }

    /** Signals with {@code killProgram}, or not at all when it is null (callers fall back to per-process signals). */
    Signals(Path killProgram) {
        this.killProgram = killProgram;
    }

    /**
     * Sends {@code signal} ("TERM", "KILL") to every process of group {@code pgid}.
     *
     * @return the running {@code kill} process, or empty if it could not be started
     */
    Optional<Process> group(long pgid, String signal) {
        // Group 0 or 1 would be the agent's own group or everything: never.
        if (killProgram == null || pgid <= 1) {
            return Optional.empty();
        }
        try {
            Process kill = new ProcessBuilder(killProgram.toString(), "-s", signal, "--", "-" + pgid)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            // A group that is already gone makes kill fail; that is the common, harmless case.
            kill.onExit().thenAccept(p -> {
                if (p.exitValue() != 0) {
                    LOG.debug("kill -s {} -- -{} exited with status {}", signal, pgid, p.exitValue());
                }
            });
            return Optional.of(kill);
        } catch (IOException e) {
            LOG.warn("Cannot run {} to send SIG{} to process group {}: {}", killProgram, signal, pgid, e.getMessage());
            return Optional.empty();
        }
    }
}

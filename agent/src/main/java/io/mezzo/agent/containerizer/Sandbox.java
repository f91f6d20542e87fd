package io.mezzo.agent.containerizer;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The sandbox layout, the Mesos one:
 *
 * <pre>
 *   &lt;work_dir&gt;/agents/&lt;agent&gt;/frameworks/&lt;framework&gt;/tasks/&lt;task&gt;/runs/&lt;container&gt;/
 *       stdout, stderr        the command's output
 *       messages/1, 2, ...    FRAMEWORK_MESSAGE data delivered to the task
 * </pre>
 *
 * <p>Ids become path segments, so each is checked to be one ({@link #checkSegment}) before a path is
 * built: a task id of {@code ..} must never let a task write outside its sandbox.
 *
 * <p>Stateless; any thread (the agent calls it from its event loop). Public only so that the agent's
 * other packages can use it.
 */
public final class Sandbox {

    /** The command's standard output, in the sandbox. */
    public static final String STDOUT = "stdout";
    /** The command's standard error, in the sandbox. */
    public static final String STDERR = "stderr";
    /** Directory of delivered framework messages, in the sandbox. */
    public static final String MESSAGES = "messages";
    /** Where a container's launcher records the command's exit status, in the container's runtime directory. */
    public static final String EXIT_STATUS = "exit_status";

    private Sandbox() {}

    /**
     * Returns null when {@code value} can be used as one path segment, else why not, naming {@code what}
     * (e.g. "task id").
     */
    public static String checkSegment(String what, String value) {
        if (value == null || value.isEmpty()) {
            return what + " is empty";
        }
        if (value.equals(".") || value.equals("..")) {
            return what + " '" + value + "' is not allowed as a directory name";
        }
        if (value.indexOf('/') >= 0 || value.indexOf('\0') >= 0) {
            return what + " '" + value + "' contains '/' or a NUL character";
        }
        if (value.length() > 255) {
            return what + " is longer than 255 characters";
        }
        return null;
    }

    /**
     * The sandbox directory of one run of a task.
     *
     * @throws IllegalArgumentException if an id is not a safe path segment
     */
    public static Path path(Path workDir, AgentId agent, FrameworkId framework, TaskId task, ContainerId container) {
        String[][] segments = {
            {"agent id", agent.value()},
            {"framework id", framework.value()},
            {"task id", task.value()},
            {"container id", container.value()}
        };
        for (String[] s : segments) {
            String error = checkSegment(s[0], s[1]);
            if (error != null) {
                throw new IllegalArgumentException(error);
            }
        }
        return workDir.resolve("agents")
                .resolve(agent.value())
                .resolve("frameworks")
                .resolve(framework.value())
                .resolve("tasks")
                .resolve(task.value())
                .resolve("runs")
                .resolve(container.value());
    }

    /**
     * The agent's own directory for one container, {@code <work_dir>/meta/containers/<container>/}: the
     * launcher's exit status file and the container's checkpoint. Outside the sandbox, so that the task
     * (which may own its sandbox) cannot forge them.
     */
    public static Path runtimeDir(Path workDir, ContainerId container) {
        String error = checkSegment("container id", container.value());
        if (error != null) {
            throw new IllegalArgumentException(error);
        }
        return workDir.resolve("meta").resolve("containers").resolve(container.value());
    }

    /** Removes a container's runtime directory; true if it is gone. */
    public static boolean deleteRuntimeDir(Path workDir, ContainerId container) {
        return deleteTree(runtimeDir(workDir, container));
    }

    /** Removes {@code dir} and everything in it, symbolic links not followed; true if it is gone. */
    public static boolean deleteTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        try (var paths = Files.walk(dir)) {
            List<Path> all = paths.sorted(java.util.Comparator.reverseOrder()).toList();
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
            return true;
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** Creates the sandbox directory with empty {@code stdout} and {@code stderr} files. */
    public static void create(Path sandbox) throws IOException {
        Files.createDirectories(sandbox);
        for (String name : new String[] {STDOUT, STDERR}) {
            Path file = sandbox.resolve(name);
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
        }
    }

    /**
     * Writes {@code data} to {@code <sandbox>/messages/<n>} atomically: a reader polling the directory
     * sees the whole file or none of it.
     *
     * @return the file written
     */
    public static Path writeMessage(Path sandbox, int n, byte[] data) throws IOException {
        Path dir = sandbox.resolve(MESSAGES);
        Files.createDirectories(dir);
        Path target = dir.resolve(Integer.toString(n));
        Path temp = dir.resolve("." + n + ".tmp");
        Files.write(temp, data);
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            // Same directory, so this only happens on exotic file systems; a plain rename is the best left.
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }
}

package io.mezzo.agent.checkpoint;

import io.mezzo.agent.containerizer.Sandbox;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.proto.v1.AgentCheckpoint;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.ResourcesCheckpoint;
import io.mezzo.proto.v1.TaskCheckpoint;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's checkpoint under {@code <work_dir>/meta}:
 *
 * <pre>
 *   meta/agent.lock                                   held while an agent uses the work directory
 *   meta/agent.info                                   AgentCheckpoint: agent id, boot id
 *   meta/resources.info                               ResourcesCheckpoint: dynamic reservations
 *   meta/frameworks/&lt;framework&gt;/framework.info        FrameworkInfo (frameworks that checkpoint)
 *   meta/frameworks/&lt;framework&gt;/tasks/&lt;task&gt;/task.info   TaskCheckpoint: task + update stream
 *   meta/containers/&lt;container&gt;/container.info        ContainerCheckpoint: launcher pid + start time
 *   meta/containers/&lt;container&gt;/exit_status          written by the launcher when the command ends
 * </pre>
 *
 * <p>Every record is written with {@link CheckpointFile} (temporary file, fsync, rename). Writes happen
 * before the agent acts on them (write, then send).
 *
 * <p>Thread: the agent's loop for writes; {@link #read} on the starting thread before the loop runs.
 * Owner: the {@code Agent}, which holds the lock for its lifetime. Public only so that the agent's other
 * packages and tests can use it.
 */
public final class CheckpointStore implements AutoCloseable {

    /** Names of the records. */
    static final String AGENT = "agent.info";
    static final String RESOURCES = "resources.info";
    static final String FRAMEWORK = "framework.info";
    static final String TASK = "task.info";
    /** The container record's name in its runtime directory. */
    public static final String CONTAINER = "container.info";

    private final Path workDir;
    private final Path meta;
    private FileChannel lockChannel;
    private FileLock lock;

    /** The checkpoint of the agent working in {@code workDir}. */
    public CheckpointStore(Path workDir) {
        this.workDir = workDir;
        this.meta = workDir.resolve("meta");
    }

    /**
     * Locks the work directory for this agent.
     *
     * @throws IOException if another agent (process or object) holds it, or it cannot be locked
     */
    public void lock() throws IOException {
        Files.createDirectories(meta);
        Path file = meta.resolve("agent.lock");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock acquired;
        try {
            acquired = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            acquired = null;
        }
        if (acquired == null) {
            channel.close();
            throw new IOException("another agent is using it (" + file + " is locked)");
        }
        lockChannel = channel;
        lock = acquired;
    }

    /** Releases the lock. */
    @Override
    public void close() {
        try {
            if (lock != null) {
                lock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            // Closing the channel releases the lock anyway.
        }
        lock = null;
        lockChannel = null;
    }

    /** {@code <work_dir>/meta}. */
    public Path metaDir() {
        return meta;
    }

    // ---------------------------------------------------------------- writes (loop thread)

    /** Writes {@code meta/agent.info}. */
    public void writeAgent(AgentCheckpoint agent) throws IOException {
        CheckpointFile.write(meta.resolve(AGENT), agent);
    }

    /** Writes {@code meta/resources.info}. */
    public void writeResources(ResourcesCheckpoint resources) throws IOException {
        CheckpointFile.write(meta.resolve(RESOURCES), resources);
    }

    /** Writes the framework's {@code framework.info}. */
    public void writeFramework(FrameworkInfo framework) throws IOException {
        CheckpointFile.write(frameworkDir(FrameworkId.of(framework.getId())).resolve(FRAMEWORK), framework);
    }

    /** Writes the task's {@code task.info}. */
    public void writeTask(FrameworkId framework, TaskId task, TaskCheckpoint record) throws IOException {
        CheckpointFile.write(taskFile(framework, task), record);
    }

    /** Removes the task's record, and its framework's once no task of it is left. */
    public void deleteTask(FrameworkId framework, TaskId task) throws IOException {
        Path taskDir = taskFile(framework, task).getParent();
        Sandbox.deleteTree(taskDir);
        Path tasks = taskDir.getParent();
        if (isEmptyDir(tasks)) {
            Sandbox.deleteTree(tasks.getParent());
            CheckpointFile.syncDirectory(meta.resolve("frameworks"));
        }
    }

    /** Writes the container's {@code container.info}. */
    public void writeContainer(ContainerCheckpoint container) throws IOException {
        CheckpointFile.write(containerFile(ContainerId.of(container.getContainerId())), container);
    }

    /** The container's record file. */
    public Path containerFile(ContainerId container) {
        return Sandbox.runtimeDir(workDir, container).resolve(CONTAINER);
    }

    /** Removes everything but the lock (after {@code --recover=cleanup} killed what was left). */
    public void wipeAgentState() {
        for (String name : new String[] {AGENT, RESOURCES}) {
            try {
                Files.deleteIfExists(meta.resolve(name));
            } catch (IOException e) {
                // Overwritten by the new agent anyway.
            }
        }
        Sandbox.deleteTree(meta.resolve("frameworks"));
    }

    // ---------------------------------------------------------------- reads (at start)

    /**
     * Everything a previous agent left in {@code meta}.
     *
     * @param agent the agent record, if any
     * @param resources the reservations, if any
     * @param frameworks framework records by id
     * @param tasks task records
     * @param containers container records
     */
    public record Recovered(
            Optional<AgentCheckpoint> agent,
            Optional<ResourcesCheckpoint> resources,
            Map<FrameworkId, FrameworkInfo> frameworks,
            List<TaskCheckpoint> tasks,
            List<ContainerCheckpoint> containers) {

        /** Nothing was left. */
        public boolean isEmpty() {
            return agent.isEmpty() && resources.isEmpty() && frameworks.isEmpty() && tasks.isEmpty()
                    && containers.isEmpty();
        }
    }

    /**
     * Reads every record.
     *
     * @param lenient skip corrupt records instead of failing (for {@code --recover=cleanup}, which only
     *     needs what can be read to kill it)
     * @param skipped told of each corrupt record skipped when lenient
     * @throws CorruptCheckpointException naming the first corrupt file, unless lenient
     */
    public Recovered read(boolean lenient, java.util.function.Consumer<CorruptCheckpointException> skipped)
            throws IOException {
        Reader reader = new Reader(lenient, skipped);
        Optional<AgentCheckpoint> agent = reader.optional(meta.resolve(AGENT), AgentCheckpoint.parser());
        Optional<ResourcesCheckpoint> resources = reader.optional(meta.resolve(RESOURCES),
                ResourcesCheckpoint.parser());
        Map<FrameworkId, FrameworkInfo> frameworks = new LinkedHashMap<>();
        List<TaskCheckpoint> tasks = new ArrayList<>();
        for (Path fwDir : list(meta.resolve("frameworks"))) {
            reader.optional(fwDir.resolve(FRAMEWORK), FrameworkInfo.parser())
                    .ifPresent(f -> frameworks.put(FrameworkId.of(f.getId()), f));
            for (Path taskDir : list(fwDir.resolve("tasks"))) {
                reader.optional(taskDir.resolve(TASK), TaskCheckpoint.parser()).ifPresent(tasks::add);
            }
        }
        List<ContainerCheckpoint> containers = new ArrayList<>();
        for (Path dir : list(meta.resolve("containers"))) {
            reader.optional(dir.resolve(CONTAINER), ContainerCheckpoint.parser()).ifPresent(containers::add);
        }
        return new Recovered(agent, resources, frameworks, tasks, containers);
    }

    private final class Reader {
        private final boolean lenient;
        private final java.util.function.Consumer<CorruptCheckpointException> skipped;

        Reader(boolean lenient, java.util.function.Consumer<CorruptCheckpointException> skipped) {
            this.lenient = lenient;
            this.skipped = skipped;
        }

        <T extends com.google.protobuf.Message> Optional<T> optional(Path file, com.google.protobuf.Parser<T> parser)
                throws IOException {
            try {
                return Optional.of(CheckpointFile.read(file, parser));
            } catch (NoSuchFileException e) {
                return Optional.empty();
            } catch (CorruptCheckpointException e) {
                if (!lenient) {
                    throw e;
                }
                skipped.accept(e);
                return Optional.empty();
            }
        }
    }

    private Path frameworkDir(FrameworkId framework) {
        return meta.resolve("frameworks").resolve(segment("framework id", framework.value()));
    }

    private Path taskFile(FrameworkId framework, TaskId task) {
        return frameworkDir(framework).resolve("tasks").resolve(segment("task id", task.value())).resolve(TASK);
    }

    private static String segment(String what, String value) {
        String error = Sandbox.checkSegment(what, value);
        if (error != null) {
            throw new IllegalArgumentException(error);
        }
        return value;
    }

    private static List<Path> list(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (Files.isDirectory(p) && !p.getFileName().toString().startsWith(".")) {
                    out.add(p);
                }
            }
        }
        out.sort(null);
        return out;
    }

    private static boolean isEmptyDir(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return !entries.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }
}

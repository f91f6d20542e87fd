package io.mezzo.agent.checkpoint;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.proto.v1.AgentCheckpoint;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.ResourcesCheckpoint;
import io.mezzo.proto.v1.TaskCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a running agent writes under {@code <work_dir>/meta}, and what it does when a write fails: the
 * agent's id, the frameworks and tasks of checkpointing frameworks, the dynamic reservations, and the
 * container records. {@link CheckpointStore} knows the files; this class knows the policy.
 *
 * <pre>
 *   agent id          on every (re)registration        failure: WARN, a restarted agent registers anew
 *   framework         on RUN_TASK (checkpointing)      failure: WARN, the task runs on
 *   task record       from the status update manager,  failure: WARN, an agent restart may lose its updates
 *                     before any update is sent
 *   reservations      on CHECKPOINT_RESOURCES          failure: WARN, and the reservations are not applied
 *   container record  before the launcher, and before  failure: thrown, the launch fails
 *                     the command starts
 * </pre>
 *
 * <p>Invariant: a record is written before the agent acts on it (write, then send or start); a failed
 * write is logged once, by this class, with the file's directory and the cause.
 *
 * <p>Thread: the agent's event loop. Owner: the agent's core, which shares it with the status update
 * manager (task records), the reservation manager and the task launcher. Stateless apart from the store.
 * Public only so that the agent's other packages can use it.
 */
public final class Checkpointer {

    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);

    private final CheckpointStore store;
    /** Starts timing one write and returns what ends it (metrics); a no-op until set. */
    private volatile Supplier<Runnable> timing = () -> () -> {};

    /** Writes through {@code store}. */
    public Checkpointer(CheckpointStore store) {
        this.store = store;
    }

    /** Times every write from now on with {@code timing}: it starts a measurement and returns its end. */
    public void timeWritesWith(Supplier<Runnable> timing) {
        this.timing = timing;
    }

    private interface Write {
        void run() throws IOException;
    }

    private void timed(Write write) throws IOException {
        Runnable done = timing.get();
        try {
            write.run();
        } finally {
            done.run();
        }
    }

    /** {@code <work_dir>/meta}, for log lines. */
    public Path metaDir() {
        return store.metaDir();
    }

    /** Writes {@code meta/agent.info}: the agent's id survives a restart whatever the frameworks ask. */
    public void agent(AgentId id, AgentCheckpoint record) {
        try {
            timed(() -> store.writeAgent(record));
        } catch (IOException e) {
            LOG.warn("Cannot checkpoint the agent's id {} in {}: {}; a restarted agent will register anew", id,
                    store.metaDir(), e.getMessage());
        }
    }

    /** Writes a checkpointing framework's {@code framework.info}. */
    public void framework(FrameworkInfo framework) {
        try {
            timed(() -> store.writeFramework(framework));
        } catch (IOException e) {
            LOG.warn("Cannot checkpoint framework {} in {}: {}", FrameworkId.of(framework.getId()), store.metaDir(),
                    e.getMessage());
        }
    }

    /** Writes a task's {@code task.info}: its record and its unacknowledged updates. */
    public void task(FrameworkId framework, TaskId task, TaskCheckpoint record) {
        try {
            timed(() -> store.writeTask(framework, task, record));
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot checkpoint task {} of framework {} in {}: {}; an agent restart may lose its updates",
                    task, framework, store.metaDir(), e.getMessage());
        }
    }

    /** Removes a forgotten task's {@code task.info}. */
    public void forgetTask(FrameworkId framework, TaskId task) {
        try {
            store.deleteTask(framework, task);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot remove the checkpoint of task {} of framework {}: {}", task, framework, e.getMessage());
        }
    }

    /**
     * Writes {@code meta/resources.info}.
     *
     * @param described the reservations as the log line shows them
     * @return false when the write failed (logged): the reservations must not be applied
     */
    public boolean reservations(ResourcesCheckpoint record, Object described) {
        try {
            timed(() -> store.writeResources(record));
            return true;
        } catch (IOException e) {
            LOG.warn("Cannot checkpoint dynamic reservations {} in {}: {}", described, store.metaDir(), e.getMessage());
            return false;
        }
    }

    /**
     * Writes a container's {@code container.info}.
     *
     * @throws IOException if it cannot be written: the launch must fail rather than run unrecorded
     */
    public void container(ContainerCheckpoint record) throws IOException {
        timed(() -> store.writeContainer(record));
    }
}

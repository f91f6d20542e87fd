package io.mezzo.agent.health;

import io.mezzo.agent.containerizer.TaskEnvironment;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.TaskInfo;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The health checks of the agent's running tasks: one {@link HealthChecker} per task whose {@code
 * TaskInfo.health_check} is set, started when its command runs and stopped when it is killed or ends.
 *
 * <pre>
 *   start(task) -> HealthChecker (probe from HealthProbes, with the task's sandbox, environment, user)
 *     health changes      -> Listener.healthChanged   (the core sends TASK_RUNNING with healthy set)
 *     threshold of fails  -> Listener.failed          (the core kills the task: TASK_KILLED)
 *   stop(task)  -> the checker stops; nothing more is heard from it
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>At most one checker runs per task.
 *   <li>The listener hears only from the task's current checker: a checker that was stopped (or replaced)
 *       is never heard from again, and one that reached its threshold is forgotten before the listener
 *       hears of it.
 * </ol>
 *
 * <p>Soft state: the checkers (a recovered task's checks start again from its recovery).
 *
 * <p>Thread: the agent's event loop (probes run on workers and append their results). Owner: the
 * agent's task lifecycle ({@code TaskLifecycle}, in the core), its listener. Public only so that the
 * core can use it.
 */
public final class HealthMonitor {

    /** What the core hears about a task's health. Called on the loop. */
    public interface Listener {
        /** The task became healthy or unhealthy (or got its first result). */
        void healthChanged(TaskKey key, boolean healthy, String detail);

        /** The task failed {@code failures} consecutive checks, the threshold: kill it. Its checks stopped. */
        void failed(TaskKey key, int failures, String detail);
    }

    private final EventLoop loop;
    private final Executor workers;
    private final Map<String, String> agentEnvironment;
    private final Listener listener;
    // Loop thread only.
    private final Map<TaskKey, HealthChecker> checkers = new LinkedHashMap<>();

    /**
     * @param workers runs the probes
     * @param agentEnvironment the agent's environment, from which a COMMAND check's environment is built
     *     as its task's
     */
    public HealthMonitor(EventLoop loop, Executor workers, Map<String, String> agentEnvironment, Listener listener) {
        this.loop = loop;
        this.workers = workers;
        this.agentEnvironment = agentEnvironment;
        this.listener = listener;
    }

    /**
     * Starts checking a task that runs: nothing when it has no health check or is checked already. Loop
     * thread.
     *
     * @param user the task's user, or null for the agent's
     */
    public void start(TaskKey key, AgentId agent, TaskInfo info, ContainerId containerId, Path sandbox, TaskUser user) {
        if (!info.hasHealthCheck() || checkers.containsKey(key)) {
            return;
        }
        HealthChecker.Probe probe = HealthProbes.of(info.getHealthCheck(), sandbox,
                TaskEnvironment.build(agentEnvironment, agent, key.framework(), info, containerId, sandbox),
                user, workers);
        HealthChecker[] checker = new HealthChecker[1];
        checker[0] = new HealthChecker(loop, "health/" + key.framework() + "/" + key.task(), info.getHealthCheck(),
                probe, new HealthChecker.Listener() {
                    @Override
                    public void healthChanged(boolean healthy, String detail) {
                        if (checkers.get(key) == checker[0]) {
                            listener.healthChanged(key, healthy, detail);
                        }
                    }

                    @Override
                    public void failed(int failures, String detail) {
                        // Invariant 2: the checker stopped itself; it is forgotten before the listener acts.
                        if (checkers.remove(key, checker[0])) {
                            listener.failed(key, failures, detail);
                        }
                    }
                });
        checkers.put(key, checker[0]);
        checker[0].start();
    }

    /** Stops checking the task (it is being killed, or it ended). Loop thread. */
    public void stop(TaskKey key) {
        HealthChecker checker = checkers.remove(key);
        if (checker != null) {
            checker.stop();
        }
    }
}

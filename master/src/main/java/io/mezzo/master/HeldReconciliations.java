package io.mezzo.master;

import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * Answers to explicit reconciliation that the master cannot give yet: the task is unknown and an
 * agent that may still re-register with it has not (see {@link TaskLifecycle#reconcile}). Each
 * framework's held answers wait here in the order they were asked, one per task, until {@link
 * TaskLifecycle} can decide them.
 *
 * <pre>
 *  RECONCILE {t1 on agent A (RECOVERED), t2 (no agent, recovery in progress)}
 *     -> hold(fw, t1, A), hold(fw, t2, "")
 *  A re-registers / is marked unreachable or gone / the last recovered agent does
 *     -> TaskLifecycle.answerHeld: release(...) offers every held task, oldest first, to a decision;
 *        those decided are answered and forgotten, the others keep their place
 *  the framework's stream closes, fails over or the framework is removed -> drop(fw)
 * </pre>
 *
 * <p>Owner: {@link TaskLifecycle}, which alone decides and sends the answers. Thread: the master's
 * event loop only.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>At most {@link #MAX_PER_FRAMEWORK} answers are held per framework; a task asked about
 *       again while held keeps its place (and the agent it names is the latest asked).
 *   <li>Held answers belong to the stream they were asked on: once the framework's connection is
 *       another (or none), they are dropped, never sent to a newer stream, which reconciles again.
 * </ol>
 *
 * <p>State: all soft. A new leader holds nothing; schedulers reconcile again when they resubscribe.
 */
final class HeldReconciliations {

    /** Most answers held for one framework. */
    static final int MAX_PER_FRAMEWORK = 100_000;

    /** One framework's held answers: the stream they were asked on, and task -> agent named ("" for none). */
    private record Queue(SchedulerConnection connection, LinkedHashMap<TaskId, String> tasks) {}

    private final Map<FrameworkId, Queue> byFramework = new LinkedHashMap<>();

    /**
     * Holds the answer about {@code task} (naming {@code agentId}, or "") for the framework's current
     * stream. False when the framework holds {@link #MAX_PER_FRAMEWORK} answers already.
     */
    boolean hold(FrameworkRecord fw, TaskId task, String agentId) {
        Queue queue = byFramework.get(fw.id);
        if (queue == null || queue.connection() != fw.connection) {
            queue = new Queue(fw.connection, new LinkedHashMap<>());
            byFramework.put(fw.id, queue);
        }
        if (!queue.tasks().containsKey(task) && queue.tasks().size() >= MAX_PER_FRAMEWORK) {
            return false;
        }
        queue.tasks().put(task, agentId);
        return true;
    }

    /** Forgets the framework's held answers; returns how many there were. */
    int drop(FrameworkId framework) {
        Queue queue = byFramework.remove(framework);
        return queue == null ? 0 : queue.tasks().size();
    }

    /** How many answers the framework has held. */
    int size(FrameworkId framework) {
        Queue queue = byFramework.get(framework);
        return queue == null ? 0 : queue.tasks().size();
    }

    boolean isEmpty() {
        return byFramework.isEmpty();
    }

    /** The frameworks with held answers, in the order they first held one (a copy). */
    Collection<FrameworkId> frameworks() {
        return List.copyOf(byFramework.keySet());
    }

    /** Whether the answers held for {@code fw} were asked on its current stream. */
    boolean askedOn(FrameworkRecord fw) {
        Queue queue = byFramework.get(fw.id);
        return queue != null && queue.connection() == fw.connection;
    }

    /**
     * Offers each of the framework's held tasks, oldest first, to {@code decided} (task, agent
     * named); forgets those it decided (it returns true after answering them). Returns how many.
     */
    int release(FrameworkId framework, BiPredicate<TaskId, String> decided) {
        Queue queue = byFramework.get(framework);
        if (queue == null) {
            return 0;
        }
        List<TaskId> answered = new ArrayList<>();
        for (Map.Entry<TaskId, String> held : queue.tasks().entrySet()) {
            if (decided.test(held.getKey(), held.getValue())) {
                answered.add(held.getKey());
            }
        }
        answered.forEach(queue.tasks()::remove);
        if (queue.tasks().isEmpty()) {
            byFramework.remove(framework);
        }
        return answered.size();
    }
}

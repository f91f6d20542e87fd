package io.mezzo.examples.batch;

import io.mezzo.scheduler.RetryPolicy;
import io.mezzo.scheduler.TaskHistory;
import io.mezzo.scheduler.TaskQueue;
import io.mezzo.scheduler.TaskSpec;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A batch framework: runs ten shell tasks (0.1 cpus and 32 MB each) on a Mezzo cluster, runs each
 * failed task again up to twice, and prints one line per task and a total. Given the cluster's
 * {@code zk://} URL it follows the leading master, so it survives a master failover: try it on
 * {@code mezzo dev --masters 3} and press Enter there while it runs.
 *
 * <p>Usage: {@code BatchRunner [master] [shell command]}; the master defaults to {@code
 * 127.0.0.1:5050}. Each task sees its id in {@code $MEZZO_TASK_ID} ({@code task-3.2} is the first
 * retry of {@code task-3}).
 */
public final class BatchRunner {

    static final int TASKS = 10;
    static final String RESOURCES = "cpus:0.1;mem:32";
    static final RetryPolicy RETRY = RetryPolicy.retries(2);

    public static void main(String[] args) throws Exception {
        String master = args.length > 0 ? args[0] : "127.0.0.1:5050";
        String command = args.length > 1 ? args[1] : "echo $MEZZO_TASK_ID on $(hostname); sleep 5";
        List<TaskHistory> results = run(master, command);
        System.out.println(summary(results));
        System.exit(results.stream().allMatch(TaskHistory::succeeded) ? 0 : 1);
    }

    /** Runs the tasks and waits until each has finished or used up its retries. */
    static List<TaskHistory> run(String master, String command) throws Exception {
        List<TaskSpec> tasks = IntStream.rangeClosed(1, TASKS)
                .mapToObj(i -> TaskSpec.shell("task-" + i, command, RESOURCES))
                .toList();
        // Closing the queue removes the framework from the cluster.
        try (TaskQueue queue = TaskQueue.builder("batch-runner").master(master).retry(RETRY).build()) {
            return queue.submitAll(tasks).get(1, TimeUnit.HOURS);
        }
    }

    /** One line per task (its attempts and how each ended), then the totals. */
    static String summary(List<TaskHistory> results) {
        StringBuilder out = new StringBuilder();
        results.forEach(task -> out.append(task).append('\n'));
        long finished = results.stream().filter(TaskHistory::succeeded).count();
        long retried = results.stream().filter(task -> task.attempts().size() > 1).count();
        return out.append(finished).append(" of ").append(results.size()).append(" tasks finished; ")
                .append(retried).append(" needed more than one attempt").toString();
    }
}

package io.mezzo.scheduler.example;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.scheduler.SchedulerError;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The example of the package documentation and of docs/framework-guide.md, compiled and tested
 * here so that it stays right. Keep the three copies the same.
 */
public final class HelloFramework implements Scheduler {

    static final Resources NEEDED = ResourceText.parse("cpus:0.1;mem:32");
    static final TaskID TASK_ID = TaskID.newBuilder().setValue("hello-1").build();

    private final CompletableFuture<TaskStatus> done = new CompletableFuture<>();
    private boolean launched; // touched only on the client thread: no lock needed

    // Completes with the task's terminal status, or fails on a fatal error.
    public CompletableFuture<TaskStatus> done() {
        return done;
    }

    @Override
    public void offers(SchedulerDriver driver, List<Offer> offers) {
        for (Offer offer : offers) {
            Resources offered = Resources.fromProto(offer.getResourcesList()).unreserved();
            if (!launched && offered.contains(NEEDED)) {
                String role = offer.getResources(0).getAllocationInfo().getRole();
                TaskInfo task = TaskInfo.newBuilder()
                        .setName("hello")
                        .setTaskId(TASK_ID)
                        .setAgentId(offer.getAgentId())
                        .addAllResources(NEEDED.toProto(role))
                        .setCommand(CommandInfo.newBuilder().setShell("echo hello"))
                        .build();
                launched = driver.launch(offer.getId(), List.of(task));
                if (launched) {
                    driver.suppress(); // one task is all we want: no more offers
                }
            } else {
                driver.decline(List.of(offer.getId()), Filters.newBuilder().setRefuseSeconds(30).build());
            }
        }
    }

    @Override
    public void update(SchedulerDriver driver, TaskStatus status) {
        System.out.printf("task %s is %s %s%n",
                status.getTaskId().getValue(), status.getState(), status.getMessage());
        // The client reconciles the task after every resubscription: if the launch was lost with a
        // dying master, the answer (TASK_LOST here, without PARTITION_AWARE) ends the wait.
        if (status.getTaskId().equals(TASK_ID) && TaskStates.isTerminal(status.getState())) {
            done.complete(status);
            driver.teardown(); // removes the framework; the client stops
        }
    }

    @Override
    public void error(SchedulerDriver driver, SchedulerError error) {
        if (error.fatal()) {
            done.completeExceptionally(new IllegalStateException(error.toString()));
        }
    }

    // Runs the framework against the master given as host:port (default 127.0.0.1:5050).
    public static void main(String[] args) throws Exception {
        FrameworkInfo info = FrameworkInfo.newBuilder()
                .setName("hello")
                .setUser(System.getProperty("user.name"))
                .setFailoverTimeout(60)
                .build();
        HelloFramework hello = new HelloFramework();
        TaskStatus last;
        try (SchedulerDriver driver = MezzoSchedulerClient.builder(info, hello)
                .master(args.length > 0 ? args[0] : "127.0.0.1:5050")
                .build()) {
            driver.start();
            last = hello.done().get(5, TimeUnit.MINUTES);
        }
        System.exit(last.getState() == TaskState.TASK_FINISHED ? 0 : 1);
    }
}

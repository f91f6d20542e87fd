/**
 * The Mezzo scheduler API: the library framework authors use to write schedulers.
 *
 * <p>A framework implements {@link io.mezzo.scheduler.Scheduler} (what the master tells it: offers,
 * task status updates, errors) and talks back through a {@link io.mezzo.scheduler.SchedulerDriver}
 * (accept or decline offers, kill and reconcile tasks). {@link
 * io.mezzo.scheduler.MezzoSchedulerClient} implements the driver on the {@code mezzo.v1.Scheduler}
 * gRPC stream: it finds the leading master, subscribes, keeps the subscription alive across
 * disconnections and master failovers, watches heartbeats, acknowledges status updates, and
 * reconciles the tasks it launched after every resubscription.
 *
 * <p><b>Threading.</b> Every callback runs on the client's single thread ({@code
 * scheduler-client}), in the order the master sent the events, so a scheduler's own state needs no
 * locks if only callbacks touch it. Driver calls may be made from any thread. A call made while the
 * framework is not subscribed is not sent: it returns {@code false} and logs one WARN line; a launch
 * that was not sent comes back as TASK_DROPPED / TASK_LOST updates, and SUPPRESS is remembered (see
 * {@link io.mezzo.scheduler.SchedulerDriver}).
 *
 * <p><b>Helpers.</b> {@link io.mezzo.scheduler.Ids} wraps ids; {@link
 * io.mezzo.scheduler.OfferPacker} and {@code SchedulerDriver.launch(Offer, TaskInfo...)} fill agent
 * id and role and pack tasks into an offer; offers a callback leaves alone are declined for it.
 * {@code io.mezzo.common.task.TaskStates.isTerminal} says when a task is over (with TASK_UNKNOWN
 * for a task you launched). For batch work without an offer loop, {@link
 * io.mezzo.scheduler.TaskQueue} runs {@link io.mezzo.scheduler.TaskSpec}s with a {@link
 * io.mezzo.scheduler.RetryPolicy} and reports each {@link io.mezzo.scheduler.TaskHistory}.
 *
 * <p><b>Example.</b> A framework that runs {@code echo hello} once, on the first offer with enough
 * cpus and memory, declines every other offer, and removes itself when the task has ended. (A
 * tested copy lives in this module's tests; {@code docs/framework-guide.md} explains it step by
 * step.)
 *
 * <pre>{@code
 * import io.mezzo.common.resources.ResourceText;
 * import io.mezzo.common.resources.Resources;
 * import io.mezzo.common.task.TaskStates;
 * import io.mezzo.proto.v1.CommandInfo;
 * import io.mezzo.proto.v1.Filters;
 * import io.mezzo.proto.v1.FrameworkInfo;
 * import io.mezzo.proto.v1.Offer;
 * import io.mezzo.proto.v1.TaskID;
 * import io.mezzo.proto.v1.TaskInfo;
 * import io.mezzo.proto.v1.TaskState;
 * import io.mezzo.proto.v1.TaskStatus;
 * import io.mezzo.scheduler.MezzoSchedulerClient;
 * import io.mezzo.scheduler.Scheduler;
 * import io.mezzo.scheduler.SchedulerDriver;
 * import io.mezzo.scheduler.SchedulerError;
 * import java.util.List;
 * import java.util.concurrent.CompletableFuture;
 * import java.util.concurrent.TimeUnit;
 *
 * public final class HelloFramework implements Scheduler {
 *
 *     static final Resources NEEDED = ResourceText.parse("cpus:0.1;mem:32");
 *     static final TaskID TASK_ID = TaskID.newBuilder().setValue("hello-1").build();
 *
 *     private final CompletableFuture<TaskStatus> done = new CompletableFuture<>();
 *     private boolean launched; // touched only on the client thread: no lock needed
 *
 *     // Completes with the task's terminal status, or fails on a fatal error.
 *     public CompletableFuture<TaskStatus> done() {
 *         return done;
 *     }
 *
 *     @Override
 *     public void offers(SchedulerDriver driver, List<Offer> offers) {
 *         for (Offer offer : offers) {
 *             Resources offered = Resources.fromProto(offer.getResourcesList()).unreserved();
 *             if (!launched && offered.contains(NEEDED)) {
 *                 String role = offer.getResources(0).getAllocationInfo().getRole();
 *                 TaskInfo task = TaskInfo.newBuilder()
 *                         .setName("hello")
 *                         .setTaskId(TASK_ID)
 *                         .setAgentId(offer.getAgentId())
 *                         .addAllResources(NEEDED.toProto(role))
 *                         .setCommand(CommandInfo.newBuilder().setShell("echo hello"))
 *                         .build();
 *                 launched = driver.launch(offer.getId(), List.of(task));
 *                 if (launched) {
 *                     driver.suppress(); // one task is all we want: no more offers
 *                 }
 *             } else {
 *                 driver.decline(List.of(offer.getId()), Filters.newBuilder().setRefuseSeconds(30).build());
 *             }
 *         }
 *     }
 *
 *     @Override
 *     public void update(SchedulerDriver driver, TaskStatus status) {
 *         System.out.printf("task %s is %s %s%n",
 *                 status.getTaskId().getValue(), status.getState(), status.getMessage());
 *         // The client reconciles the task after every resubscription: if the launch was lost with a
 *         // dying master, the answer (TASK_LOST here, without PARTITION_AWARE) ends the wait.
 *         if (status.getTaskId().equals(TASK_ID) && TaskStates.isTerminal(status.getState())) {
 *             done.complete(status);
 *             driver.teardown(); // removes the framework; the client stops
 *         }
 *     }
 *
 *     @Override
 *     public void error(SchedulerDriver driver, SchedulerError error) {
 *         if (error.fatal()) {
 *             done.completeExceptionally(new IllegalStateException(error.toString()));
 *         }
 *     }
 *
 *     // Runs the framework against the master given as host:port (default 127.0.0.1:5050).
 *     public static void main(String[] args) throws Exception {
 *         FrameworkInfo info = FrameworkInfo.newBuilder()
 *                 .setName("hello")
 *                 .setUser(System.getProperty("user.name"))
 *                 .setFailoverTimeout(60)
 *                 .build();
 *         HelloFramework hello = new HelloFramework();
 *         TaskStatus last;
 *         try (SchedulerDriver driver = MezzoSchedulerClient.builder(info, hello)
 *                 .master(args.length > 0 ? args[0] : "127.0.0.1:5050")
 *                 .build()) {
 *             driver.start();
 *             last = hello.done().get(5, TimeUnit.MINUTES);
 *         }
 *         System.exit(last.getState() == TaskState.TASK_FINISHED ? 0 : 1);
 *     }
 * }
 * }</pre>
 *
 * <p><b>Dependencies.</b> The library brings the protocol ({@code io.mezzo.proto.v1}), Mezzo's
 * resource arithmetic ({@code io.mezzo.common}) and the gRPC transport, but not Curator or
 * ZooKeeper: a framework that gives the master as a {@code zk://} URL adds the Maven dependency
 * {@code io.mezzo:mezzo-zk-ha}; without it, {@code master("zk://...")} fails at once with an error
 * naming that dependency. {@code host:port} needs nothing more.
 *
 * <p><b>Inside.</b> The package-private classes are internal:
 *
 * <ul>
 *   <li>{@code MezzoSchedulerClient}: the public facade (builder, driver calls, start and close);
 *   <li>{@code Subscription}: the reconnect and subscribe state machine, owner of the client's
 *       event loop and of all its state;
 *   <li>{@code ClientState}: the lifecycle (NEW, CONNECTING, SUBSCRIBED, BACKING_OFF, NO_LEADER,
 *       STOPPED) and its legal moves;
 *   <li>{@code MasterConnection}: one stream to one master, and the gRPC edge that enqueues what
 *       arrives;
 *   <li>{@code LaunchedTasks}: the tasks launched and not yet ended, reconciled explicitly after
 *       every (re)subscription;
 *   <li>{@code Callbacks}: one event to one {@code Scheduler} callback, and auto-acknowledgement;
 *   <li>{@code Calls}: builds the {@code Call} messages;
 *   <li>{@code UnusedOffers}, {@code OfferSuppression}: the offers to decline for a callback, the
 *       roles to suppress again after a resubscription.
 * </ul>
 *
 * <p>All of the client's state is confined to its loop thread; other threads only append events or
 * read the published session to send a call. The package's {@code README.md} draws the connection
 * flow and the lifecycle.
 */
package io.mezzo.scheduler;

package io.mezzo.dist.run;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.loop.LoggingFaultHandler;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.scheduler.SchedulerError;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The built-in framework behind {@code mezzo run} and the {@code mezzo dev} demo: it launches one
 * command task on the first offer big enough, declines everything else, prints each state change
 * of the task, and ends with an {@link Outcome}: the task's exit code, or why it could not tell.
 *
 * <pre>
 *  scheduler client thread          mezzo-run loop (this class's state)                 timers (tags)
 *  -----------------------          -----------------------------------                 -------------
 *  subscribed / disconnected ─append─► master bound: armed while not subscribed ─────── "master"
 *  offers ───────────────────append─► WAITING_FOR_OFFER ─launch─► LAUNCHED ───────────── "offer" (until launched)
 *  update ───────────────────append─►   STARTING/RUNNING ─► STARTED                     "unreachable" (while the
 *  error ────────────────────append─►   UNKNOWN/DROPPED/GONE/LOST before STARTED:          agent is unreachable)
 *                                         relaunch as a new task id (bounded attempts)   "deadline" (--timeout)
 *                                       any other end ─► Outcome ─► outcome() completes, loop stops
 * </pre>
 *
 * <p>Rules kept here:
 *
 * <ol>
 *   <li>Nothing waits forever: no leading master for {@link Bounds#master}, no fitting offer for
 *       {@link Bounds#offer} after an attempt starts waiting (while subscribed), and a task whose
 *       agent stays unreachable for {@link Bounds#unreachable}, each end the run with its own exit
 *       code and a message; only the task's own run time is unbounded, unless {@link Bounds#run}
 *       is given.
 *   <li>A task reported TASK_UNKNOWN, TASK_DROPPED, TASK_GONE or TASK_LOST before it was ever seen
 *       STARTING or RUNNING never ran, nor did one reported TASK_DROPPED at any time (the agent
 *       sends it only for a command that never started, e.g. after restarting while launching it):
 *       it is launched again under a new task id ({@code <id>-2}, ...), at most {@link
 *       Bounds#attempts} launches in all, each said on screen. The library's reconciliation after
 *       every resubscription is what brings those answers for a launch a dying master swallowed.
 *   <li>A task that was seen STARTING or RUNNING and is then reported TASK_UNKNOWN, TASK_GONE or
 *       TASK_LOST ends the run with {@link #EXIT_LOST}: it may have run, and its exit code is
 *       unknown.
 *   <li>An earlier attempt that turns out to be alive after all (a late update) is killed, so at
 *       most one copy of the command keeps running.
 *   <li>A task its role's quota limit keeps from running says so: with a {@link QuotaCheck}, a run
 *       with no fitting offer after {@link #QUOTA_CHECK_AFTER} asks the leader (off the loop); a
 *       request above a limit outright ends the run at once, one that does not fit beside what the
 *       role uses is said once and, if no offer comes, is the message the run ends with. A run
 *       that gets its offer quickly never asks.
 * </ol>
 *
 * <p><b>Thread.</b> Its state lives on its own {@link EventLoop} ({@code mezzo-run}); the {@link
 * Scheduler} callbacks (on the client's thread) and the timers only append events to it, and driver
 * calls go from there. The loop stops by itself once the outcome is known. {@link #outcome()},
 * {@link #result()} and {@link #currentTaskId()} may be read from any thread. <b>Owner:</b> {@code
 * mezzo run} ({@code RunCommand}) or the {@code mezzo dev} demo, which also own the client.
 */
public final class RunFramework implements Scheduler, AutoCloseable {

    /** Exit code when the task never ran: invalid, refused, could not start, or attempts used up. */
    public static final int EXIT_NEVER_RAN = 1;

    /** Exit code when the task was killed (TASK_KILLED): 128 + SIGKILL, as a shell reports it. */
    public static final int EXIT_KILLED = 137;

    /**
     * Exit code when the task started and was then lost (TASK_LOST, TASK_GONE, TASK_UNKNOWN), or
     * its agent stayed unreachable past the bound: its outcome is unknown.
     */
    public static final int EXIT_LOST = 120;

    /** Exit code when no leading master answered for longer than the bound. */
    public static final int EXIT_NO_MASTER = 121;

    /** Exit code when no offer fitting the task arrived within the bound. */
    public static final int EXIT_NO_OFFER = 122;

    /** Exit code when the task did not end within {@code --timeout} (it is killed), as timeout(1). */
    public static final int EXIT_TIMEOUT = 124;

    /** How long declined offers are refused: the framework needs one offer only. */
    private static final double REFUSE_SECONDS = 60;

    private static final String MASTER_TIMER = "master";
    private static final String OFFER_TIMER = "offer";
    private static final String UNREACHABLE_TIMER = "unreachable";
    private static final String DEADLINE_TIMER = "deadline";
    private static final String QUOTA_TIMER = "quota";

    /**
     * How long the run waits for a fitting offer before it asks whether its role's quota allows the
     * task at all ({@link QuotaCheck}): longer than the master's usual first offer (its allocation
     * interval, 1 s by default), so that a run that gets an offer never asks.
     */
    static final Duration QUOTA_CHECK_AFTER = Duration.ofSeconds(2);

    /**
     * Asks the leading master whether the task fits in its role's quota. Called off the loop (it
     * blocks on the master), at most twice per attempt: after {@link #QUOTA_CHECK_AFTER} without a
     * fitting offer, and when {@link Bounds#offer} runs out.
     */
    @FunctionalInterface
    public interface QuotaCheck {
        /**
         * The verdict for the task's request at {@code leader}; {@link QuotaVerdict#FITS} when it
         * fits or cannot be told.
         */
        QuotaVerdict check(MasterInfo leader);
    }

    /**
     * What a {@link QuotaCheck} found.
     *
     * @param never the request exceeds a limit outright: no offer will ever fit
     * @param message why the task does not fit (names the role, the resource, the limit and the
     *     usage); null when it fits
     */
    public record QuotaVerdict(boolean never, String message) {
        /** The request fits the quota, or there is none, or the check could not tell. */
        public static final QuotaVerdict FITS = new QuotaVerdict(false, null);
    }

    /**
     * How long {@code mezzo run} waits for each thing, and how often it launches a task that never
     * started.
     *
     * @param master longest time without a subscription to a leading master (from the start, and
     *     after each disconnection)
     * @param offer longest wait for a fitting offer, counted from the first subscription of each
     *     attempt
     * @param unreachable longest time the task's agent may stay unreachable
     * @param run longest run of the whole command, from the start; null for no bound
     * @param attempts launches in all, at least 1
     */
    public record Bounds(Duration master, Duration offer, Duration unreachable, Duration run, int attempts) {
        public Bounds {
            Objects.requireNonNull(master, "master");
            Objects.requireNonNull(offer, "offer");
            Objects.requireNonNull(unreachable, "unreachable");
            if (attempts < 1) {
                throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
            }
        }

        /** 60 s for a master, 60 s for an offer, 5 min for an unreachable agent, no run bound, 3 launches. */
        public static Bounds defaults() {
            return new Bounds(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofMinutes(5), null, 3);
        }
    }

    /**
     * How the run ended.
     *
     * @param exitCode what {@code mezzo run} exits with
     * @param message why, when the task's own status does not say it (already printed); null otherwise
     * @param status the task's last status, when there was one
     */
    public record Outcome(int exitCode, String message, TaskStatus status) {}

    /** Where the run is, for the current attempt. */
    private enum Phase {
        WAITING_FOR_OFFER,
        LAUNCHED,
        STARTED,
        DONE
    }

    // Configuration; immutable.
    private final String baseTaskId;
    private final String taskName;
    private final Resources resources;
    private final CommandInfo command;
    private final PrintStream out;
    private final String prefix;
    private final String master;
    private final Bounds bounds;
    private final EventLoop loop;
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    private final CompletableFuture<TaskStatus> result = new CompletableFuture<>();

    // Written on the loop, read by any thread.
    private volatile String taskId;

    // Loop thread only.
    private SchedulerDriver driver;
    private Phase phase = Phase.WAITING_FOR_OFFER;
    private int attempt = 1;
    private String agentId = "";
    private final Set<String> earlierTaskIds = new HashSet<>();
    private boolean subscribed;
    private boolean everSubscribed;
    private boolean unreachable;
    private QuotaCheck quotaCheck;
    private MasterInfo leader;
    private String quotaSaid;

    /**
     * A framework that will run {@code command} as task {@code taskId} with {@code resources},
     * printing its lines to {@code out} after "{@code prefix}: ", with the default {@link Bounds} on
     * the system clock.
     */
    public RunFramework(String taskId, String taskName, Resources resources, CommandInfo command, PrintStream out,
            String prefix) {
        this(taskId, taskName, resources, command, out, prefix, "the master", Bounds.defaults(),
                SystemClock.INSTANCE, LoggingFaultHandler.INSTANCE);
    }

    /**
     * A framework that will run {@code command} as task {@code taskId} with {@code resources},
     * printing its lines to {@code out} after "{@code prefix}: ". {@code master} names the master in
     * messages. The bounds count on {@code clock} from now.
     */
    public RunFramework(String taskId, String taskName, Resources resources, CommandInfo command, PrintStream out,
            String prefix, String master, Bounds bounds, Clock clock, FaultHandler faultHandler) {
        this.baseTaskId = taskId;
        this.taskId = taskId;
        this.taskName = taskName;
        this.resources = resources;
        this.command = command;
        this.out = out;
        this.prefix = prefix + ": ";
        this.master = master;
        this.bounds = bounds;
        this.loop = new EventLoop("mezzo-run", clock, faultHandler);
        loop.schedule(MASTER_TIMER, bounds.master(), this::onNoMaster);
        if (bounds.run() != null) {
            loop.schedule(DEADLINE_TIMER, bounds.run(), this::onDeadline);
        }
    }

    /**
     * Asks {@code check} why no offer fits when none comes (see {@link QuotaCheck}); call before
     * the client starts. Without one, the run ends with the generic "no offer" message.
     */
    public RunFramework quotaCheck(QuotaCheck check) {
        loop.append(() -> quotaCheck = check);
        return this;
    }

    /** Completes with how the run ended; never exceptionally. */
    public CompletableFuture<Outcome> outcome() {
        return outcome;
    }

    /**
     * Completes with the task's last status when the run ended on one (see {@link #exitCode}), or
     * exceptionally with the outcome's message when it ended without one (no master, no offer, a
     * refused framework, a bound).
     */
    public CompletableFuture<TaskStatus> result() {
        return result;
    }

    /** The id of the task of the current attempt. */
    public TaskID currentTaskId() {
        return TaskID.newBuilder().setValue(taskId).build();
    }

    /** Stops the loop (the outcome, if not known yet, never will be). Idempotent. */
    @Override
    public void close() {
        loop.close();
    }

    /** Completes once the loop has handled everything appended so far and fired due timers. For tests. */
    CompletableFuture<Void> barrier() {
        return loop.barrier();
    }

    // ---------------------------------------------------------------------------------------
    // Scheduler callbacks (client thread): only append.
    // ---------------------------------------------------------------------------------------

    @Override
    public void subscribed(SchedulerDriver driver, FrameworkID frameworkId, MasterInfo master) {
        loop.append(() -> onSubscribed(driver, master));
    }

    @Override
    public void disconnected(SchedulerDriver driver) {
        loop.append(this::onDisconnected);
    }

    @Override
    public void offers(SchedulerDriver driver, List<Offer> offers) {
        loop.append(() -> onOffers(driver, offers));
    }

    @Override
    public void update(SchedulerDriver driver, TaskStatus status) {
        loop.append(() -> onUpdate(driver, status));
    }

    @Override
    public void error(SchedulerDriver driver, SchedulerError error) {
        loop.append(() -> onError(error));
    }

    // ---------------------------------------------------------------------------------------
    // Loop thread.
    // ---------------------------------------------------------------------------------------

    private void onSubscribed(SchedulerDriver d, MasterInfo leader) {
        if (phase == Phase.DONE) {
            return;
        }
        driver = d;
        this.leader = leader;
        loop.cancel(MASTER_TIMER);
        if (everSubscribed && !subscribed) {
            say("reconnected to master " + hostPort(leader));
        }
        subscribed = true;
        everSubscribed = true;
        if (phase == Phase.WAITING_FOR_OFFER) {
            // Offers may have been suppressed by an earlier attempt, or filtered by a new leader.
            driver.revive();
            armOfferTimer();
        }
    }

    private void onDisconnected() {
        if (phase == Phase.DONE) {
            return;
        }
        subscribed = false;
        say("lost the master; reconnecting (giving up after " + text(bounds.master()) + " without one)");
        loop.schedule(MASTER_TIMER, bounds.master(), this::onNoMaster);
    }

    private void onOffers(SchedulerDriver d, List<Offer> offers) {
        driver = d;
        List<OfferID> decline = new ArrayList<>();
        for (Offer offer : offers) {
            if (phase == Phase.WAITING_FOR_OFFER && fits(offer)) {
                TaskInfo task = TaskInfo.newBuilder()
                        .setName(taskName)
                        .setTaskId(currentTaskId())
                        .setAgentId(offer.getAgentId())
                        .addAllResources(resources.toProto())
                        .setCommand(command)
                        .build();
                if (driver.launch(offer.getId(), List.of(task))) {
                    phase = Phase.LAUNCHED;
                    agentId = offer.getAgentId().getValue();
                    loop.cancel(OFFER_TIMER);
                    loop.cancel(QUOTA_TIMER);
                    say("launching task " + taskId + " on agent " + agentId + " (" + offer.getHostname() + ") with "
                            + resources);
                    driver.suppress();
                    continue;
                }
            }
            decline.add(offer.getId());
        }
        if (!decline.isEmpty()) {
            driver.decline(decline, Filters.newBuilder().setRefuseSeconds(REFUSE_SECONDS).build());
        }
    }

    /** Whether the offer holds the task's resources, unreserved or reserved for the offer's role. */
    private boolean fits(Offer offer) {
        List<Resource> plain = new ArrayList<>();
        for (Resource r : offer.getResourcesList()) {
            if (!r.hasReservation()) {
                plain.add(r.toBuilder().clearAllocationInfo().build());
            }
        }
        return Resources.fromProto(plain).contains(resources);
    }

    private void onUpdate(SchedulerDriver d, TaskStatus status) {
        driver = d;
        String id = status.getTaskId().getValue();
        TaskState state = status.getState();
        if (phase == Phase.DONE) {
            return;
        }
        if (!id.equals(taskId)) {
            if (earlierTaskIds.contains(id) && !endsTheTask(state) && state != TaskState.TASK_UNREACHABLE) {
                say("task " + id + " (an earlier attempt) is " + state + " after all; killing it");
                driver.kill(status.getTaskId(), status.hasAgentId() ? status.getAgentId() : null, null);
            }
            return;
        }
        printUpdate(status);
        switch (state) {
            case TASK_STARTING, TASK_RUNNING, TASK_KILLING -> {
                phase = Phase.STARTED;
                backFromUnreachable();
            }
            case TASK_STAGING -> backFromUnreachable();
            case TASK_UNREACHABLE -> {
                if (!unreachable) {
                    unreachable = true;
                    say("the agent of task " + id + " is unreachable; waiting up to " + text(bounds.unreachable())
                            + " for it to come back");
                    loop.schedule(UNREACHABLE_TIMER, bounds.unreachable(), this::onUnreachableTooLong);
                }
            }
            case TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_ERROR -> {
                if (state == TaskState.TASK_FAILED && status.getReason() == StatusReason.REASON_RECONCILIATION
                        && !status.hasExitCode()) {
                    // A new master learnt the end from the agent's report before the update itself,
                    // which carries the exit code and follows once the agent's older updates are
                    // acknowledged: wait for it rather than guess the code.
                    say("task " + id + " failed; waiting for its agent's update with the exit code");
                    return;
                }
                finish(new Outcome(exitCode(status), null, status));
            }
            case TASK_UNKNOWN, TASK_DROPPED, TASK_GONE, TASK_LOST -> onGone(status);
            default -> {
                // UNRECOGNIZED or unset: nothing to act on.
            }
        }
    }

    /** The task is reported as not existing (any more): relaunch it if it never started. */
    private void onGone(TaskStatus status) {
        String why = status.getState() + (status.getMessage().isEmpty() ? "" : ": " + status.getMessage());
        // TASK_DROPPED always means the command never ran (a launch refused, or an agent that
        // restarted before the command started, even after TASK_STARTING): safe to launch again.
        if (phase == Phase.STARTED && status.getState() != TaskState.TASK_DROPPED) {
            finish(new Outcome(EXIT_LOST, "task " + taskId + " was running and is now " + why
                    + "; its outcome is unknown", status));
            return;
        }
        if (attempt >= bounds.attempts()) {
            finish(new Outcome(EXIT_NEVER_RAN, "task " + taskId + " was never started (" + why + "); giving up after "
                    + attempt + (attempt == 1 ? " attempt" : " attempts"), status));
            return;
        }
        String old = taskId;
        earlierTaskIds.add(old);
        attempt++;
        taskId = baseTaskId + "-" + attempt;
        phase = Phase.WAITING_FOR_OFFER;
        agentId = "";
        backFromUnreachable();
        say("task " + old + " was never started (" + why + "); launching it again as " + taskId + " (attempt "
                + attempt + " of " + bounds.attempts() + ")");
        if (subscribed) {
            driver.revive();
            loop.cancel(OFFER_TIMER);
            armOfferTimer();
        }
    }

    private void onError(SchedulerError error) {
        if (phase == Phase.DONE) {
            return;
        }
        if (!error.fatal()) {
            say("the master refused a call: " + error.message());
            return;
        }
        boolean started = phase == Phase.STARTED;
        finish(new Outcome(started ? EXIT_LOST : EXIT_NEVER_RAN, "the master refused the framework: "
                + error.message() + (started ? "; task " + taskId + " ended with it, its outcome unknown" : ""), null));
    }

    private void onNoMaster() {
        if (phase == Phase.DONE || subscribed) {
            return;
        }
        String task = phase == Phase.WAITING_FOR_OFFER
                ? ""
                : "; task " + taskId + " may still be running: the master kills it when the framework's failover"
                        + " timeout passes";
        finish(new Outcome(EXIT_NO_MASTER, "no leading master answered at " + master + " for "
                + text(bounds.master()) + task, null));
    }

    private void onNoOffer() {
        if (phase != Phase.WAITING_FOR_OFFER) {
            return;
        }
        if (quotaCheck != null && subscribed && leader != null) {
            // Say why, when the quota is why: ask the leader, then end with its answer.
            askQuota(verdict -> {
                if (phase == Phase.WAITING_FOR_OFFER) {
                    if (verdict.message() != null) {
                        finish(new Outcome(EXIT_NO_OFFER, verdict.message(), null));
                    } else {
                        noOffer();
                    }
                }
            });
            return;
        }
        noOffer();
    }

    /** A fitting offer is late: a request the role's quota can never hold ends the run now. */
    private void onQuotaCheck() {
        if (phase != Phase.WAITING_FOR_OFFER || quotaCheck == null || !subscribed || leader == null) {
            return;
        }
        askQuota(verdict -> {
            if (phase != Phase.WAITING_FOR_OFFER || verdict.message() == null) {
                return;
            }
            if (verdict.never()) {
                finish(new Outcome(EXIT_NO_OFFER, verdict.message(), null));
            } else if (!verdict.message().equals(quotaSaid)) {
                quotaSaid = verdict.message();
                say("waiting for an offer: " + verdict.message());
            }
        });
    }

    /** Runs the quota check on a thread of its own (it blocks on the master) and hands the verdict to the loop. */
    private void askQuota(java.util.function.Consumer<QuotaVerdict> then) {
        QuotaCheck check = quotaCheck;
        MasterInfo at = leader;
        Thread t = new Thread(() -> {
            QuotaVerdict verdict;
            try {
                verdict = check.check(at);
            } catch (RuntimeException e) {
                verdict = QuotaVerdict.FITS; // cannot tell: the generic message stands
            }
            QuotaVerdict v = verdict == null ? QuotaVerdict.FITS : verdict;
            loop.append(() -> then.accept(v));
        }, "mezzo-run-quota");
        t.setDaemon(true);
        t.start();
    }

    private void noOffer() {
        finish(new Outcome(EXIT_NO_OFFER, "no offer with " + resources + " arrived from " + master + " within "
                + text(bounds.offer()) + (subscribed ? "" : " (and the master is unreachable now)"), null));
    }

    private void onUnreachableTooLong() {
        if (phase == Phase.DONE || !unreachable) {
            return;
        }
        finish(new Outcome(EXIT_LOST, "the agent of task " + taskId + " has been unreachable for "
                + text(bounds.unreachable()) + "; giving up (the task may still be running there)", null));
    }

    private void onDeadline() {
        if (phase == Phase.DONE) {
            return;
        }
        String what;
        if (phase == Phase.WAITING_FOR_OFFER) {
            what = "task " + taskId + " did not start within --timeout " + text(bounds.run());
        } else {
            what = "task " + taskId + " did not end within --timeout " + text(bounds.run()) + "; killing it";
            if (driver != null) {
                driver.kill(currentTaskId(), agentId.isEmpty() ? null : AgentID.newBuilder().setValue(agentId).build(),
                        null);
            }
        }
        finish(new Outcome(EXIT_TIMEOUT, what, null));
    }

    private void armOfferTimer() {
        if (!loop.isScheduled(OFFER_TIMER)) {
            loop.schedule(OFFER_TIMER, bounds.offer(), this::onNoOffer);
            if (QUOTA_CHECK_AFTER.compareTo(bounds.offer()) < 0) {
                loop.schedule(QUOTA_TIMER, QUOTA_CHECK_AFTER, this::onQuotaCheck);
            }
        }
    }

    private void backFromUnreachable() {
        if (unreachable) {
            unreachable = false;
            loop.cancel(UNREACHABLE_TIMER);
        }
    }

    /** Ends the run: prints the message, completes the futures, stops the loop. */
    private void finish(Outcome o) {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        for (String tag : List.of(MASTER_TIMER, OFFER_TIMER, UNREACHABLE_TIMER, DEADLINE_TIMER, QUOTA_TIMER)) {
            loop.cancel(tag);
        }
        if (o.message() != null) {
            say(o.message());
        }
        outcome.complete(o);
        if (o.status() != null) {
            result.complete(o.status());
        } else {
            result.completeExceptionally(new IllegalStateException(o.message()));
        }
        loop.close();
    }

    private void printUpdate(TaskStatus status) {
        StringBuilder line = new StringBuilder("task ").append(status.getTaskId().getValue()).append(' ')
                .append(status.getState());
        if (status.hasExitCode()) {
            line.append(" (exit ").append(status.getExitCode()).append(')');
        }
        if (!status.getMessage().isEmpty()) {
            line.append(": ").append(status.getMessage());
        }
        say(line.toString());
    }

    private void say(String line) {
        out.println(prefix + line);
        out.flush();
    }

    /** Whether {@code state} means the task is over or never was. */
    private static boolean endsTheTask(TaskState state) {
        return TaskStates.isTerminal(state) || state == TaskState.TASK_UNKNOWN;
    }

    private static String hostPort(MasterInfo m) {
        return (m.getIp().isEmpty() ? m.getHostname() : m.getIp()) + ":" + m.getPort();
    }

    /** A duration as a person reads it: 90s, 5m, 1h30m. */
    static String text(Duration d) {
        long s = d.toSeconds();
        if (s == 0 || d.toMillis() % 1000 != 0) {
            return d.toMillis() + "ms";
        }
        StringBuilder b = new StringBuilder();
        if (s >= 3600) {
            b.append(s / 3600).append('h');
            s %= 3600;
        }
        if (s >= 60) {
            b.append(s / 60).append('m');
            s %= 60;
        }
        if (s > 0 || b.length() == 0) {
            b.append(s).append('s');
        }
        return b.toString();
    }

    /**
     * The exit code {@code mezzo run} ends with for a terminal status: the command's own exit code
     * when it ran, {@link #EXIT_KILLED} when it was killed, {@link #EXIT_NEVER_RAN} when it never
     * ran, {@link #EXIT_LOST} when it was lost.
     */
    public static int exitCode(TaskStatus status) {
        return switch (status.getState()) {
            case TASK_FINISHED -> 0;
            case TASK_FAILED -> status.hasExitCode() ? status.getExitCode() : EXIT_NEVER_RAN;
            case TASK_KILLED -> EXIT_KILLED;
            case TASK_LOST, TASK_GONE, TASK_UNKNOWN, TASK_DROPPED -> EXIT_LOST;
            default -> EXIT_NEVER_RAN;
        };
    }
}

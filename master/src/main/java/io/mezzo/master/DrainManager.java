package io.mezzo.master;

import io.grpc.Status;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.master.validation.MaintenanceValidation;
import io.mezzo.proto.v1.DrainConfig;
import io.mezzo.proto.v1.DrainInfo;
import io.mezzo.proto.v1.DrainState;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.RegistryDrain;
import io.mezzo.proto.v1.StatusReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Agent drains and maintenance windows (operator control): write, persist, apply, reply.
 *
 * <pre>
 *  DrainAgent --registry drains/&lt;id&gt; DRAINING--> agent DRAINING: offers rescinded, not offered
 *     progress(): each live task killed once (REASON_AGENT_DRAINING, grace capped)
 *     no live task left --registry drains/&lt;id&gt; DRAINED--> agent DRAINED --mark_gone--> MarkAgentGone path
 *  ReactivateAgent --delete drains/&lt;id&gt;--> REGISTERED, offered again
 *  UpdateMaintenanceSchedule --registry maintenance/schedule--> MAINTENANCE event to frameworks,
 *     timer at the earliest start --one write: drains of its agents + the rest of the schedule--> drains
 * </pre>
 *
 * <p>{@link #progress} runs after each status update of a draining agent and on a one-second
 * timer while anything drains or a window is pending: it kills what is left and completes drains.
 * A scheduler hears the pending schedule when it subscribes ({@link #subscribed}) and whenever the
 * schedule changes; what each stream was told is forgotten when it goes ({@link #detached}). Kills are idempotent on the agent, so a
 * new leader or a restarted agent simply gets them again (tasks are rebuilt without {@code
 * drainKillSent}).
 *
 * <p>Owner: {@link MasterCore}. Calls {@link AgentManager} (lifecycle, MarkAgentGone), {@link
 * FrameworkManager} (who to notify), {@link TaskLifecycle} (kills), {@link OfferManager}. Thread:
 * the master's event loop only.
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A drain is durable before it takes effect, and a reactivation before it is undone: memory
 *       follows the registry (a new leader reads drains back; re-registration keeps them).
 *   <li>A registered agent with a drain is never offerable ({@link AgentRecord#offerable()}).
 *   <li>A window's drains and its removal from the schedule are one registry write.
 * </ol>
 *
 * <p>State: {@code AgentRecord.drain} of each agent (hard: {@code registry/drains/<id>}); {@code
 * schedule} (hard: {@code registry/maintenance/schedule}); {@code scheduleVersion} and {@code
 * noticed} (soft: which scheduler stream was told which version of the schedule).
 */
final class DrainManager {

    private static final Logger LOG = LoggerFactory.getLogger(DrainManager.class);

    static final String TIMER_PROGRESS = "drain-progress";
    static final String TIMER_MAINTENANCE = "maintenance-start";
    static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(1);

    private final EventLoop loop;
    private final Clock clock;
    private final LeaderTerm term;
    private final Outbox out;
    private final AgentManager agents;
    private final FrameworkManager frameworks;
    private final TaskLifecycle tasks;
    private final OfferManager offers;
    /** Pending maintenance windows, earliest first. Hard (registry maintenance/schedule). */
    private List<MaintenanceWindow> schedule = List.of();
    /** Bumped on every change of {@code schedule}. Soft. */
    private long scheduleVersion;
    /** The stream of each framework last told the schedule, and which version. Soft. */
    private final Map<FrameworkId, Notice> noticed = new HashMap<>();

    private record Notice(SchedulerConnection connection, long version) {}

    DrainManager(EventLoop loop, Clock clock, LeaderTerm term, Outbox out, AgentManager agents,
            FrameworkManager frameworks, TaskLifecycle tasks, OfferManager offers) {
        this.loop = loop;
        this.clock = clock;
        this.term = term;
        this.out = out;
        this.agents = agents;
        this.frameworks = frameworks;
        this.tasks = tasks;
        this.offers = offers;
    }

    /** A new leader: the drains and the schedule read back from the registry. */
    void recover(List<RegistryDrain> drains, List<MaintenanceWindow> windows) {
        noticed.clear();
        for (RegistryDrain d : drains) {
            AgentRecord agent = agents.get(AgentId.of(d.getAgentId()));
            if (agent != null) {
                agent.drain = d.getDrain();
            }
        }
        schedule = sorted(windows);
        scheduleVersion++;
        if (!drains.isEmpty() || !windows.isEmpty()) {
            LOG.info("Recovered {} agent drains and {} pending maintenance windows", drains.size(), windows.size());
        }
        armMaintenance();
        armProgress();
    }

    void cancelTimers() {
        loop.cancel(TIMER_PROGRESS);
        loop.cancel(TIMER_MAINTENANCE);
    }

    // ------------------------------------------------------------------------------------------
    // DrainAgent and ReactivateAgent
    // ------------------------------------------------------------------------------------------

    /** DrainAgent: answers {@code done} with null once the drain is durable and in force, or why not. */
    void drain(AgentId id, DrainConfig config, Consumer<Status> done) {
        AgentRecord agent = agents.get(id);
        Status refused = !term.acting() ? Status.UNAVAILABLE.withDescription("this master is not acting as leader")
                : agent == null ? Status.NOT_FOUND.withDescription("agent " + id + " is not known")
                : agent.state == AgentRecord.State.GONE || agent.markingGone
                        ? Status.FAILED_PRECONDITION.withDescription("agent " + id + " is gone")
                        : MaintenanceValidation.validate(config) != null
                                ? Status.INVALID_ARGUMENT.withDescription(MaintenanceValidation.validate(config)) : null;
        if (refused != null) {
            LOG.info("Refused DrainAgent of {}: {}", id, refused.getDescription());
            done.accept(refused);
            return;
        }
        DrainInfo info = DrainInfo.newBuilder().setState(DrainState.DRAIN_STATE_DRAINING).setConfig(config)
                .setStartedTime(clock.seconds()).build();
        term.persist(List.of(RegistryRecords.drain(id.value(), info)), "drain of agent " + id, () -> {
            applyDrain(agent, info);
            done.accept(null);
        });
    }

    private void applyDrain(AgentRecord agent, DrainInfo info) {
        MDC.put("agent", agent.id.value());
        agent.drain = info;
        for (TaskRecord task : agent.allTasks()) {
            task.drainKillSent = false;
        }
        if (agent.state.registered()) {
            agents.transition(agent, AgentRecord.State.DRAINING);
        }
        offers.rescindOffersOn(agent);
        offers.syncOfferable(agent);
        LOG.info("Draining agent {} at {}: no more offers, {} tasks to kill (max grace period {}, mark gone {})",
                agent.id, agent.info.getHostname(), agent.allTasks().stream().filter(t -> !t.terminal()).count(),
                info.getConfig().hasMaxGracePeriod()
                        ? Duration.ofNanos(info.getConfig().getMaxGracePeriod().getNanoseconds()) : "the tasks' own",
                info.getConfig().getMarkGone());
        MDC.remove("agent");
        offers.requestAllocation();
        armProgress();
        progress();
    }

    /** ReactivateAgent: answers {@code done} with null once the drain is over (durably), or why not. */
    void reactivate(AgentId id, Consumer<Status> done) {
        AgentRecord agent = agents.get(id);
        Status refused = !term.acting() ? Status.UNAVAILABLE.withDescription("this master is not acting as leader")
                : agent == null ? Status.NOT_FOUND.withDescription("agent " + id + " is not known")
                : agent.state == AgentRecord.State.GONE || agent.markingGone
                        ? Status.FAILED_PRECONDITION.withDescription("agent " + id + " is gone")
                        : agent.drain == null
                                ? Status.FAILED_PRECONDITION.withDescription("agent " + id + " is not draining") : null;
        if (refused != null) {
            LOG.info("Refused ReactivateAgent of {}: {}", id, refused.getDescription());
            done.accept(refused);
            return;
        }
        term.persist(List.of(RegistryRecords.undrain(id.value())), "reactivation of agent " + id, () -> {
            MDC.put("agent", id.value());
            agent.drain = null;
            if (agent.state.registered()) {
                agents.transition(agent, AgentRecord.State.REGISTERED);
            }
            offers.syncOfferable(agent);
            LOG.info("Reactivated agent {} at {}: offered again", id, agent.info.getHostname());
            MDC.remove("agent");
            offers.requestAllocation();
            done.accept(null);
        });
    }

    // ------------------------------------------------------------------------------------------
    // Progress: kills, DRAINED, mark gone, notices
    // ------------------------------------------------------------------------------------------

    /** Moves every drain on and tells schedulers the schedule; cheap when nothing drains. */
    void progress() {
        if (!term.acting()) {
            return;
        }
        for (AgentRecord agent : List.copyOf(agents.all())) {
            if (agent.drain != null && agent.state.registered()) {
                progress(agent);
            }
        }
        notifySchedulers();
    }

    /** Moves one agent's drain on (after one of its status updates); nothing when it has none. */
    void progress(AgentRecord agent) {
        if (agent.drain == null || !agent.state.registered() || !term.acting()) {
            return;
        }
        DrainConfig config = agent.drain.getConfig();
        if (agent.state == AgentRecord.State.DRAINING && agent.connection != null) {
            boolean live = false;
            for (TaskRecord task : agent.allTasks()) {
                if (task.terminal()) {
                    continue;
                }
                live = true;
                if (!task.drainKillSent) {
                    task.drainKillSent = true;
                    task.killRequested = true; // resent with its reason if the agent re-registers
                    task.killReason = StatusReason.REASON_AGENT_DRAINING;
                    tasks.sendKill(agent, task, StatusReason.REASON_AGENT_DRAINING, cappedPolicy(task, config));
                    LOG.info("Killing task {} of framework {}: agent {} is draining", task.id, task.framework, agent.id);
                }
            }
            if (!live && !agent.drainWriting) {
                DrainInfo drained = agent.drain.toBuilder().setState(DrainState.DRAIN_STATE_DRAINED).build();
                agent.drainWriting = true;
                term.persist(List.of(RegistryRecords.drain(agent.id.value(), drained)), "agent " + agent.id + " drained",
                        () -> {
                            agent.drainWriting = false;
                            if (agent.drain == null || agent.state != AgentRecord.State.DRAINING) {
                                return; // reactivated or lost meanwhile
                            }
                            agent.drain = drained;
                            agents.transition(agent, AgentRecord.State.DRAINED);
                            LOG.info("Agent {} at {} is drained", agent.id, agent.info.getHostname());
                            progress(agent);
                        });
            }
        }
        if (agent.state == AgentRecord.State.DRAINED && config.getMarkGone() && !agent.markingGone) {
            LOG.info("Marking drained agent {} gone, as its drain asked", agent.id);
            agents.markGone(agent.id, error -> {
                if (error != null) {
                    LOG.warn("Could not mark drained agent {} gone: {}", agent.id, error);
                }
            });
        }
    }

    /** The task's own grace period (of the framework's KILL, else of the task), capped by the drain's. */
    static KillPolicy cappedPolicy(TaskRecord task, DrainConfig config) {
        if (!config.hasMaxGracePeriod()) {
            return task.killPolicy;
        }
        long max = config.getMaxGracePeriod().getNanoseconds();
        KillPolicy own = task.killPolicy != null && task.killPolicy.hasGracePeriod() ? task.killPolicy
                : task.info.hasKillPolicy() && task.info.getKillPolicy().hasGracePeriod() ? task.info.getKillPolicy() : null;
        long grace = own == null ? max : Math.min(max, own.getGracePeriod().getNanoseconds());
        return KillPolicy.newBuilder().setGracePeriod(DurationInfo.newBuilder().setNanoseconds(grace)).build();
    }

    private void armProgress() {
        if (loop.isScheduled(TIMER_PROGRESS)) {
            return;
        }
        loop.schedule(TIMER_PROGRESS, PROGRESS_INTERVAL, () -> {
            progress();
            boolean busy = !schedule.isEmpty() || agents.all().stream().anyMatch(a -> a.drain != null
                    && a.state != AgentRecord.State.GONE);
            if (busy) {
                armProgress();
            }
        });
    }

    // ------------------------------------------------------------------------------------------
    // Maintenance schedule
    // ------------------------------------------------------------------------------------------

    /** The pending windows, earliest first. */
    List<MaintenanceWindow> schedule() {
        return schedule;
    }

    /** UpdateMaintenanceSchedule: answers {@code done} with null once the schedule is durable and in force. */
    void updateSchedule(List<MaintenanceWindow> windows, Consumer<Status> done) {
        if (!term.acting()) {
            done.accept(Status.UNAVAILABLE.withDescription("this master is not acting as leader"));
            return;
        }
        String error = MaintenanceValidation.validate(windows, id -> {
            AgentRecord a = agents.get(AgentId.of(id));
            return a != null && a.state != AgentRecord.State.GONE;
        });
        if (error != null) {
            LOG.info("Refused UpdateMaintenanceSchedule: {}", error);
            done.accept(Status.INVALID_ARGUMENT.withDescription(error));
            return;
        }
        List<MaintenanceWindow> next = sorted(windows);
        term.persist(List.of(RegistryRecords.maintenance(next)), "maintenance schedule", () -> {
            schedule = next;
            scheduleVersion++;
            LOG.info("Maintenance schedule set: {} windows{}", next.size(),
                    next.isEmpty() ? "" : ", the first at " + next.get(0).getStartTime());
            armMaintenance();
            armProgress();
            notifySchedulers();
            done.accept(null);
        });
    }

    private void armMaintenance() {
        if (schedule.isEmpty()) {
            loop.cancel(TIMER_MAINTENANCE);
            return;
        }
        long at = (long) (schedule.get(0).getStartTime() * 1000);
        loop.schedule(TIMER_MAINTENANCE, Duration.ofMillis(Math.max(0, at - clock.millis())), this::startDueWindows);
    }

    /** The earliest windows are due: their drains and the rest of the schedule are written at once (invariant 3). */
    private void startDueWindows() {
        if (!term.acting()) {
            loop.schedule(TIMER_MAINTENANCE, Duration.ofSeconds(1), this::startDueWindows);
            return;
        }
        double now = clock.seconds();
        List<MaintenanceWindow> due = schedule.stream().filter(w -> w.getStartTime() <= now).toList();
        if (due.isEmpty()) {
            armMaintenance();
            return;
        }
        List<MaintenanceWindow> rest = schedule.stream().filter(w -> w.getStartTime() > now).toList();
        List<RegistryOp> ops = new ArrayList<>();
        Map<AgentRecord, DrainInfo> drains = new HashMap<>();
        for (MaintenanceWindow w : due) {
            for (var id : w.getAgentIdsList()) {
                AgentRecord agent = agents.get(AgentId.of(id));
                if (agent == null || agent.state == AgentRecord.State.GONE || agent.markingGone || agent.drain != null) {
                    continue;
                }
                DrainInfo info = DrainInfo.newBuilder().setState(DrainState.DRAIN_STATE_DRAINING)
                        .setConfig(w.getDrainConfig()).setStartedTime(now).build();
                ops.add(RegistryRecords.drain(agent.id.value(), info));
                drains.put(agent, info);
            }
        }
        ops.add(RegistryRecords.maintenance(rest));
        schedule = rest; // not re-fired while the write is in flight
        loop.cancel(TIMER_MAINTENANCE);
        term.persist(ops, "start of " + due.size() + " maintenance windows", () -> {
            LOG.info("Maintenance window due: draining {} agents ({} windows started, {} pending)", drains.size(),
                    due.size(), rest.size());
            scheduleVersion++;
            drains.forEach(this::applyDrain);
            armMaintenance();
            notifySchedulers();
        });
    }

    /** A scheduler subscribed (SUBSCRIBED is out): it hears of the pending windows at once. */
    void subscribed(FrameworkRecord fw) {
        if (term.acting()) {
            notify(fw);
        }
    }

    /** A framework has no stream any more (disconnected or removed): what it was told is forgotten. */
    void detached(FrameworkId id) {
        noticed.remove(id);
    }

    /** The number of streams whose notices are remembered (for tests: pruned on detach). */
    int noticedStreams() {
        return noticed.size();
    }

    private void notifySchedulers() {
        for (FrameworkRecord fw : frameworks.all()) {
            notify(fw);
        }
    }

    /** Sends {@code fw}'s stream the schedule unless it has this version already. */
    private void notify(FrameworkRecord fw) {
        if (fw.connection == null) {
            return;
        }
        Notice last = noticed.get(fw.id);
        boolean told = last != null && last.connection() == fw.connection;
        if (told && last.version() == scheduleVersion) {
            return;
        }
        noticed.put(fw.id, new Notice(fw.connection, scheduleVersion));
        if (!told && schedule.isEmpty()) {
            return; // nothing pending, and this stream was never told of anything
        }
        out.sendEvent(fw, Event.newBuilder().setType(Event.Type.MAINTENANCE)
                .setMaintenance(Event.Maintenance.newBuilder().addAllWindows(schedule)).build());
    }

    private static List<MaintenanceWindow> sorted(List<MaintenanceWindow> windows) {
        return windows.stream().sorted(Comparator.comparingDouble(MaintenanceWindow::getStartTime)).toList();
    }
}

package io.mezzo.sim;

import com.google.protobuf.InvalidProtocolBufferException;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.DrainState;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.RegistryAgent;
import io.mezzo.proto.v1.RegistryDrain;
import io.mezzo.proto.v1.RegistryFramework;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The cluster's invariants. {@link #afterStep} runs after every step; {@link #quiescent} once the
 * faults have stopped and the cluster has settled. Each failure is a {@link Cluster#violation}.
 *
 * <p>After every step:
 *
 * <ol>
 *   <li>No daemon reported a fault (an illegal transition, a handler that threw).
 *   <li>At most one master acts as leader.
 *   <li>In the leader, for every agent, {@code used + offered ⊆ total}; every 16th check (and after
 *       quiescence) also that its offers add up to its {@code offered} and that no offer id appears
 *       twice (nothing offered twice); a draining or drained agent is offered nothing.
 *   <li>In the leader, every agent's {@code used} is the sum of its live tasks (resources conserved).
 *   <li>On every agent, its live tasks fit its total (nothing used twice); a task runs on one agent
 *       (both checked whenever an agent starts a task, the only step that can break them).
 *   <li>Per task, agent updates reach the framework in the order made, none skipped before its
 *       acknowledgement (checked by {@link SimFramework} as each arrives).
 * </ol>
 *
 * <p>After quiescence:
 *
 * <ol>
 *   <li>A leader acts.
 *   <li>The leader's live tasks on every registered agent are the agent's live tasks, in the same
 *       states.
 *   <li>The registry and the leader agree on agents, their drains and frameworks.
 *   <li>The leader's admission control counts no more launches in flight than it has staging tasks
 *       (a count that drifted up would hold every offer back for good).
 * </ol>
 *
 * <p>At the end: every task a framework launched reached a terminal state the framework learned,
 * unless the framework was removed; no agent holds an unacknowledged update of a live framework.
 *
 * <p>Thread: the simulation's.
 */
final class Invariants {

    private final Cluster cluster;
    private long leaderChecks;

    Invariants(Cluster cluster) {
        this.cluster = cluster;
    }

    void afterStep() {
        World world = cluster.world;
        if (!world.faults.isEmpty()) {
            cluster.violation("a daemon reported a fault: " + world.faults);
            world.faults.clear();
        }
        int acting = 0;
        for (SimMaster m : cluster.masters) {
            if (m.acting()) {
                acting++;
            }
        }
        if (acting > 1) {
            cluster.violation(acting + " masters act as leader at once");
        }
        SimMaster leader = cluster.actingLeader();
        // The leader's state changes only when its loop runs: checked after every step in which it did.
        if (leader != null && leader.busy()) {
            // The offers themselves (a full state) every 16th time; the sums in every agent's view always.
            boolean full = ++leaderChecks % 16 == 0;
            checkLeader(full ? leader.state() : leader.agentsAndTasks(), full);
        }
        world.clearBusy();
    }

    /** A task about to start on {@code agent} must not live on another agent: nothing is used twice. */
    void launching(SimAgent agent, String task) {
        for (SimAgent other : cluster.agents) {
            if (other != agent && other.up() && other.liveTasks().containsKey(task)) {
                cluster.violation("task " + task + " is launched on " + agent.name + " while it runs on " + other.name);
            }
        }
    }

    private void checkLeader(GetStateResponse state, boolean withOffers) {
        Map<String, Resources> offered = new HashMap<>();
        Set<String> offerIds = new HashSet<>();
        for (Offer o : state.getOffersList()) {
            if (!offerIds.add(o.getId().getValue())) {
                cluster.violation("offer " + o.getId().getValue() + " is outstanding twice");
            }
            offered.merge(o.getAgentId().getValue(), plain(Resources.fromProto(o.getResourcesList())), Resources::plus);
        }
        Map<String, Resources> usedByTasks = new HashMap<>();
        for (Task t : state.getTasksList()) {
            if (!TaskStates.isTerminal(t.getState())) {
                usedByTasks.merge(t.getAgentId().getValue(), plain(Resources.fromProto(t.getResourcesList())),
                        Resources::plus);
            }
        }
        for (AgentView a : state.getAgentsList()) {
            String id = a.getAgentInfo().getId().getValue();
            Resources total = plain(Resources.fromProto(a.getTotalResourcesList()));
            Resources used = plain(Resources.fromProto(a.getUsedResourcesList()));
            Resources off = plain(Resources.fromProto(a.getOfferedResourcesList()));
            if (!total.contains(used.plus(off))) {
                cluster.violation("agent " + id + " has used " + used + " + offered " + off + " beyond its total " + total);
            }
            Resources offers = offered.getOrDefault(id, Resources.EMPTY);
            if (withOffers && !offers.equals(off)) {
                cluster.violation("agent " + id + " counts " + off + " offered but its offers hold " + offers);
            }
            Resources tasks = usedByTasks.getOrDefault(id, Resources.EMPTY);
            boolean draining = a.getState() == AgentView.State.DRAINING || a.getState() == AgentView.State.DRAINED;
            if (draining && !off.isEmpty()) {
                cluster.violation("agent " + id + " (" + a.getState() + ") is offered " + off);
            }
            boolean counted = a.getState() == AgentView.State.REGISTERED || draining;
            // An unreachable agent's resources are out of the allocation; its tasks wait for it to return.
            if (counted && !tasks.equals(used)) {
                StringBuilder which = new StringBuilder();
                state.getTasksList().stream().filter(t -> t.getAgentId().getValue().equals(id))
                        .forEach(t -> which.append(' ').append(t.getTaskId().getValue()).append('=').append(t.getState()));
                cluster.violation("agent " + id + " (" + a.getState() + ") counts " + used
                        + " used but its live tasks hold " + tasks + ":" + which);
            }
        }
    }

    void quiescent() {
        SimMaster leader = cluster.actingLeader();
        if (leader == null) {
            cluster.violation("no master leads after quiescence");
            return;
        }
        GetStateResponse state = leader.state();
        checkLeader(state, true);
        Map<String, Map<String, TaskState>> masterView = new HashMap<>();
        for (Task t : state.getTasksList()) {
            if (!TaskStates.isTerminal(t.getState())) {
                masterView.computeIfAbsent(t.getAgentId().getValue(), k -> new TreeMap<>())
                        .put(t.getTaskId().getValue(), t.getState());
            }
        }
        for (SimAgent a : cluster.agents) {
            if (!a.registered()) {
                continue;
            }
            Map<String, TaskState> mine = new TreeMap<>(a.liveTasks());
            Map<String, TaskState> master = masterView.getOrDefault(a.id(), Map.of());
            if (!mine.equals(master)) {
                cluster.violation("after quiescence the master sees " + master + " on " + a.name + " (" + a.id()
                        + ") but the agent has " + mine);
            }
        }
        checkRegistry(state);
        // Admission control counts exactly the tasks still waiting for their agent's first update.
        long staging = state.getTasksList().stream().filter(t -> t.getState() == TaskState.TASK_STAGING).count();
        int inFlight = leader.master().launchesInFlight();
        if (inFlight > staging) {
            cluster.violation("the leader counts " + inFlight + " launches in flight but has " + staging
                    + " staging tasks");
        }
    }

    private void checkRegistry(GetStateResponse state) {
        Map<String, Map<String, byte[]>> data = cluster.zk.data();
        Map<String, AgentView.State> leaderAgents = new HashMap<>();
        state.getAgentsList().forEach(a -> leaderAgents.put(a.getAgentInfo().getId().getValue(), a.getState()));
        Map<String, RegistryAgent.State> registryAgents = new HashMap<>();
        Map<String, DrainState> registryDrains = new HashMap<>();
        try {
            for (byte[] bytes : data.getOrDefault("agents", Map.of()).values()) {
                RegistryAgent a = RegistryAgent.parseFrom(bytes);
                registryAgents.put(a.getInfo().getId().getValue(), a.getState());
            }
            for (byte[] bytes : data.getOrDefault("frameworks", Map.of()).values()) {
                RegistryFramework f = RegistryFramework.parseFrom(bytes);
                boolean active = f.getState() == RegistryFramework.State.ACTIVE;
                String id = f.getInfo().getId().getValue();
                boolean inLeader = state.getFrameworksList().stream().anyMatch(v -> v.getFrameworkInfo().getId()
                        .getValue().equals(id) && v.getState() != FrameworkView.State.REMOVED);
                if (active != inLeader) {
                    cluster.violation("the registry has framework " + id + " " + f.getState() + " but the leader "
                            + (inLeader ? "has it" : "does not"));
                }
            }
            for (byte[] bytes : data.getOrDefault("drains", Map.of()).values()) {
                RegistryDrain d = RegistryDrain.parseFrom(bytes);
                registryDrains.put(d.getAgentId().getValue(), d.getDrain().getState());
            }
        } catch (InvalidProtocolBufferException e) {
            cluster.violation("registry record corrupt: " + e.getMessage());
            return;
        }
        // A registered agent drains in the leader exactly when the registry holds its drain, in the same state.
        leaderAgents.forEach((id, in) -> {
            DrainState drain = registryDrains.get(id);
            AgentView.State expected = drain == null ? AgentView.State.REGISTERED
                    : drain == DrainState.DRAIN_STATE_DRAINED ? AgentView.State.DRAINED : AgentView.State.DRAINING;
            boolean registered = in == AgentView.State.REGISTERED || in == AgentView.State.DRAINING
                    || in == AgentView.State.DRAINED;
            if (registered && in != expected) {
                cluster.violation("the registry has agent " + id + " with drain " + drain + " but the leader has it "
                        + in);
            }
        });
        for (Map.Entry<String, RegistryAgent.State> e : registryAgents.entrySet()) {
            AgentView.State in = leaderAgents.get(e.getKey());
            boolean agrees = switch (e.getValue()) {
                case ADMITTED -> in == AgentView.State.REGISTERED || in == AgentView.State.DRAINING
                        || in == AgentView.State.DRAINED;
                case UNREACHABLE -> in == AgentView.State.UNREACHABLE;
                case GONE -> in == null || in == AgentView.State.GONE;
                default -> false;
            };
            if (!agrees) {
                cluster.violation("the registry has agent " + e.getKey() + " " + e.getValue() + " but the leader has "
                        + in);
            }
        }
        leaderAgents.forEach((id, in) -> {
            if (in != AgentView.State.GONE && !registryAgents.containsKey(id)) {
                cluster.violation("the leader has agent " + id + " " + in + " that the registry does not");
            }
        });
    }

    void atEnd() {
        for (SimFramework f : cluster.frameworks) {
            if (f.removed()) {
                continue;
            }
            f.launched.forEach((task, k) -> {
                if (!k.ended) {
                    cluster.violation(f.name + " never learned that task " + task + " ended (last heard "
                            + k.state + ")");
                }
            });
        }
        for (SimAgent a : cluster.agents) {
            a.pendingUpdates().forEach(u -> {
                boolean live = cluster.frameworks.stream().anyMatch(f -> !f.removed()
                        && u.getFrameworkId().getValue().equals(f.id()));
                if (live) {
                    cluster.violation(a.name + " still holds unacknowledged update " + u.getStatus().getState()
                            + " of task " + u.getStatus().getTaskId().getValue());
                }
            });
        }
    }

    /** Scalars without reservation or allocation details, so that views compare as plain sums. */
    private static Resources plain(Resources r) {
        return r.withoutReservations().scalarsOnly();
    }
}

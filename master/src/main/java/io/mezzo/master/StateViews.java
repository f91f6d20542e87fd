package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.validation.Redaction;
import io.mezzo.master.allocator.Quota;
import io.mezzo.master.allocator.RoleSummary;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Read-only views of the master's state for the operator API ({@link OperatorService}) and the
 * HTTP endpoints ({@link HttpEndpoints}): built on the loop, so each sees one consistent state,
 * and returned as immutable protobuf messages that the edge threads may hand on.
 *
 * <p>Owner: {@link MasterCore}. Thread: the master's event loop only (the edges call it through
 * {@code EventLoop.call}). Changes nothing and holds no state: it reads the managers' records.
 */
final class StateViews {

    private final LeaderTerm term;
    private final AgentLookup agents;
    private final FrameworkLookup frameworks;
    private final OfferManager offers;
    private final TaskLifecycle tasks;

    StateViews(LeaderTerm term, AgentLookup agents, FrameworkLookup frameworks, OfferManager offers,
            TaskLifecycle tasks) {
        this.term = term;
        this.agents = agents;
        this.frameworks = frameworks;
        this.offers = offers;
        this.tasks = tasks;
    }

    /** Everything: agents, frameworks, tasks, completed tasks, offers, and the cluster's sums. */
    GetStateResponse state() {
        GetStateResponse.Builder b = GetStateResponse.newBuilder().setMasterInfo(term.masterInfo());
        Resources total = Resources.EMPTY;
        Resources used = Resources.EMPTY;
        Resources offered = Resources.EMPTY;
        for (AgentRecord agent : agents.all()) {
            b.addAgents(agentView(agent));
            if (agent.state.registered()) {
                // Cluster sums are scalar: port ranges of different hosts do not add up as sets.
                // Capped, never overflowing: no peer's numbers can make the state unreadable.
                total = total.plusScalarsCapped(agent.total);
                used = used.plusScalarsCapped(agent.used);
                offered = offered.plusScalarsCapped(agent.offered);
            }
        }
        frameworks.all().forEach(fw -> b.addFrameworks(frameworkView(fw)));
        b.addAllTasks(tasks(null));
        b.addAllCompletedTasks(tasks.completed());
        offers.all().forEach(o -> b.addOffers(Offer.newBuilder()
                .setId(o.id().toProto())
                .setFrameworkId(o.framework().toProto())
                .setAgentId(o.agent().toProto())
                .setHostname(agents.get(o.agent()).info.getHostname())
                .addAllResources(o.resources().toProto(o.role()))));
        return b.addAllTotalResources(total.toProto())
                .addAllUsedResources(used.toProto())
                .addAllOfferedResources(offered.toProto())
                .build();
    }

    /**
     * Every role the allocator knows, with what its subtree holds, has on offer and lacks of its
     * guarantee; and the cluster's total against what the guarantees add up to (the over-commit).
     */
    GetRolesResponse roles() {
        Map<String, Resources> offeredByRole = new HashMap<>();
        for (FrameworkRecord fw : frameworks.all()) {
            fw.offered.forEach((role, r) -> {
                for (String at = role; at != null; at = at.contains("/") ? at.substring(0, at.lastIndexOf('/')) : null) {
                    offeredByRole.merge(at, r.scalarsOnly(), Resources::plus);
                }
            });
        }
        GetRolesResponse.Builder b = GetRolesResponse.newBuilder();
        for (RoleSummary s : offers.roleSummaries()) {
            b.addRoles(RoleView.newBuilder()
                    .setRole(s.role())
                    .setWeight(s.weight())
                    .setQuota(quotaConfig(s.role(), s.quota()))
                    .addAllAllocated(s.allocated().toProto())
                    .addAllOffered(offeredByRole.getOrDefault(s.role(), Resources.EMPTY).toProto())
                    .addAllReserved(s.reserved().toProto())
                    .addAllConsumedQuota(s.consumedQuota().toProto())
                    .addAllFrameworks(s.frameworks().stream().map(FrameworkId::toProto).toList())
                    .setShare(s.share())
                    .addAllUnmetGuarantee(s.unmetGuarantee().toProto()));
        }
        // The over-commit: what the guarantees add up to against the cluster's total.
        Resources total = offers.clusterTotal();
        Resources.Builder guaranteed = Resources.builder();
        Resources.Builder over = Resources.builder();
        offers.roleConfigInForce().guaranteedInTotal().forEach((name, v) -> {
            guaranteed.scalar(name, v);
            if (v > total.scalar(name)) {
                over.scalar(name, v - total.scalar(name));
            }
        });
        return b.addAllTotal(total.toProto())
                .addAllGuaranteed(guaranteed.build().toProto())
                .addAllOvercommitted(over.build().toProto())
                .build();
    }

    private static QuotaConfig quotaConfig(String role, Quota quota) {
        QuotaConfig.Builder q = QuotaConfig.newBuilder().setRole(role);
        new TreeMap<>(quota.guarantees()).forEach((n, v) -> q.putGuarantees(n, Value.Scalar.newBuilder().setMilli(v).build()));
        new TreeMap<>(quota.limits()).forEach((n, v) -> q.putLimits(n, Value.Scalar.newBuilder().setMilli(v).build()));
        return q.build();
    }

    List<AgentView> agentViews() {
        return agents.all().stream().map(this::agentView).toList();
    }

    List<FrameworkView> frameworkViews() {
        return frameworks.all().stream().map(this::frameworkView).toList();
    }

    /** The live tasks of one framework, or of all when {@code only} is null. */
    List<Task> tasks(FrameworkId only) {
        List<Task> out = new ArrayList<>();
        for (FrameworkRecord fw : frameworks.all()) {
            if (only == null || only.equals(fw.id)) {
                fw.tasks.values().forEach(t -> out.add(Redaction.task(t.toProto())));
            }
        }
        return out;
    }

    /** The completed tasks of one framework, or of all when {@code only} is null, oldest first. */
    List<Task> completedTasks(FrameworkId only) {
        return tasks.completed().stream()
                .filter(t -> only == null || t.getFrameworkId().getValue().equals(only.value()))
                .toList();
    }

    /**
     * Where an agent's own gRPC server listens: the address its stream comes from, and the port
     * it advertises. Empty when the agent is unknown or not connected.
     */
    Optional<String> agentEndpoint(AgentId id) {
        AgentRecord agent = agents.get(id);
        if (agent == null || agent.connection == null || agent.info.getPort() <= 0) {
            return Optional.empty();
        }
        String peer = agent.connection.peer;
        String host = peer.contains(":") ? peer.substring(0, peer.lastIndexOf(':')) : peer;
        return Optional.of(host + ":" + agent.info.getPort());
    }

    /** The principal of a framework ("" when it has none); empty when the framework is not known. */
    Optional<String> frameworkPrincipal(io.mezzo.common.id.FrameworkId id) {
        FrameworkRecord fw = frameworks.get(id);
        return fw == null ? Optional.empty() : Optional.of(fw.info.getPrincipal());
    }

    private AgentView agentView(AgentRecord agent) {
        AgentView.Builder v = AgentView.newBuilder()
                .setAgentInfo(agent.info.toBuilder().setId(agent.id.toProto()))
                .setState(switch (agent.state) {
                    case RECOVERED -> AgentView.State.RECOVERED;
                    case REGISTERED -> AgentView.State.REGISTERED;
                    case DRAINING -> AgentView.State.DRAINING;
                    case DRAINED -> AgentView.State.DRAINED;
                    case UNREACHABLE -> AgentView.State.UNREACHABLE;
                    case GONE -> AgentView.State.GONE;
                })
                .addAllTotalResources(agent.total.toProto())
                .addAllUsedResources(agent.used.toProto())
                .addAllOfferedResources(agent.offered.toProto())
                .setRegisteredTime(agent.registeredAt / 1000.0);
        if (agent.state == AgentRecord.State.UNREACHABLE) {
            v.setUnreachableTime(agent.unreachableAt / 1000.0);
        }
        v.setConnected(agent.connection != null);
        if (agent.connection != null && agent.info.getHttpPort() > 0) {
            String peer = agent.connection.peer;
            v.setHttpAddress((peer.contains(":") ? peer.substring(0, peer.lastIndexOf(':')) : peer) + ":"
                    + agent.info.getHttpPort());
        }
        if (agent.connection != null) {
            v.setConnectedTime(agent.connectionChangedAt / 1000.0);
        } else {
            v.setDisconnectedTime(agent.connectionChangedAt / 1000.0);
        }
        if (agent.lastHeardAt > 0) {
            v.setLastHeardTime(agent.lastHeardAt / 1000.0);
        }
        if (agent.drain != null) {
            v.setDrainInfo(agent.drain);
        }
        return v.build();
    }

    private FrameworkView frameworkView(FrameworkRecord fw) {
        FrameworkView.Builder v = FrameworkView.newBuilder()
                .setFrameworkInfo(fw.info)
                .setState(switch (fw.state) {
                    case CONNECTED -> FrameworkView.State.CONNECTED;
                    case DISCONNECTED -> FrameworkView.State.DISCONNECTED;
                    case RECOVERED -> FrameworkView.State.RECOVERED;
                    case REMOVED -> FrameworkView.State.REMOVED;
                })
                .addAllUsedResources(fw.totalUsed().toProto())
                .addAllOfferedResources(fw.totalOffered().toProto())
                .setActiveTasks((int) fw.tasks.values().stream().filter(t -> !t.terminal()).count())
                .setRegisteredTime(fw.registeredAt / 1000.0)
                .setSuppressed(!fw.suppressedRoles.isEmpty() && fw.suppressedRoles.containsAll(fw.roles()));
        if (fw.state != FrameworkRecord.State.CONNECTED) {
            v.setDisconnectedTime(fw.disconnectedAt / 1000.0);
        }
        return v.build();
    }
}

package io.mezzo.master;

import com.google.protobuf.InvalidProtocolBufferException;
import io.mezzo.ha.registry.RegistryException;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.DrainInfo;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.RegistryAgent;
import io.mezzo.proto.v1.RegistryDrain;
import io.mezzo.proto.v1.RegistryFramework;
import io.mezzo.proto.v1.RegistryMaintenance;
import io.mezzo.proto.v1.RegistryRole;
import io.mezzo.master.allocator.Quota;
import io.mezzo.master.allocator.RoleConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The master's registry records: how agents, frameworks and role settings (the master's hard
 * state) are written to and read from the registry. Pure; any thread.
 */
final class RegistryRecords {

    static final String AGENTS = "agents";
    static final String FRAMEWORKS = "frameworks";
    static final String ROLES = "roles";
    static final String DRAINS = "drains";
    static final String MAINTENANCE = "maintenance";
    static final String SCHEDULE = "schedule";

    private RegistryRecords() {}

    /** What a new leader reads back. */
    record Recovered(List<RegistryAgent> agents, List<RegistryFramework> frameworks, RoleConfig roles,
            List<RegistryDrain> drains, List<MaintenanceWindow> maintenance) {

        Recovered(List<RegistryAgent> agents, List<RegistryFramework> frameworks, RoleConfig roles) {
            this(agents, frameworks, roles, List.of(), List.of());
        }
    }

    static Recovered decode(Map<String, Map<String, byte[]>> all) {
        List<RegistryAgent> agents = new ArrayList<>();
        List<RegistryFramework> frameworks = new ArrayList<>();
        all.getOrDefault(AGENTS, Map.of()).forEach((key, bytes) -> {
            try {
                RegistryAgent a = RegistryAgent.parseFrom(bytes);
                if (!a.getInfo().getId().getValue().equals(key)) {
                    throw new RegistryException("registry record agents/" + key + " holds agent "
                            + a.getInfo().getId().getValue());
                }
                agents.add(a);
            } catch (InvalidProtocolBufferException e) {
                throw new RegistryException("registry record agents/" + key + " is corrupt: " + e.getMessage(), e);
            }
        });
        all.getOrDefault(FRAMEWORKS, Map.of()).forEach((key, bytes) -> {
            try {
                RegistryFramework f = RegistryFramework.parseFrom(bytes);
                if (!f.getInfo().getId().getValue().equals(key)) {
                    throw new RegistryException("registry record frameworks/" + key + " holds framework "
                            + f.getInfo().getId().getValue());
                }
                frameworks.add(f);
            } catch (InvalidProtocolBufferException e) {
                throw new RegistryException("registry record frameworks/" + key + " is corrupt: " + e.getMessage(), e);
            }
        });
        Map<String, Double> weights = new java.util.TreeMap<>();
        Map<String, Quota> quotas = new java.util.TreeMap<>();
        all.getOrDefault(ROLES, Map.of()).forEach((key, bytes) -> {
            try {
                RegistryRole r = RegistryRole.parseFrom(bytes);
                if (!r.getRole().equals(key)) {
                    throw new RegistryException("registry record roles/" + key + " holds role " + r.getRole());
                }
                if (r.getWeight() > 0 && r.getWeight() != 1) {
                    weights.put(key, r.getWeight());
                }
                Quota q = new Quota(r.getGuaranteesMilliMap(), r.getLimitsMilliMap());
                if (!q.isEmpty()) {
                    quotas.put(key, q);
                }
            } catch (InvalidProtocolBufferException e) {
                throw new RegistryException("registry record roles/" + key + " is corrupt: " + e.getMessage(), e);
            }
        });
        List<RegistryDrain> drains = new ArrayList<>();
        all.getOrDefault(DRAINS, Map.of()).forEach((key, bytes) -> {
            try {
                RegistryDrain d = RegistryDrain.parseFrom(bytes);
                if (!d.getAgentId().getValue().equals(key)) {
                    throw new RegistryException("registry record drains/" + key + " holds agent "
                            + d.getAgentId().getValue());
                }
                drains.add(d);
            } catch (InvalidProtocolBufferException e) {
                throw new RegistryException("registry record drains/" + key + " is corrupt: " + e.getMessage(), e);
            }
        });
        List<MaintenanceWindow> windows = new ArrayList<>();
        byte[] schedule = all.getOrDefault(MAINTENANCE, Map.of()).get(SCHEDULE);
        if (schedule != null) {
            try {
                windows.addAll(RegistryMaintenance.parseFrom(schedule).getWindowsList());
            } catch (InvalidProtocolBufferException e) {
                throw new RegistryException("registry record maintenance/schedule is corrupt: " + e.getMessage(), e);
            }
        }
        return new Recovered(agents, frameworks, new RoleConfig(weights, quotas), drains, windows);
    }

    /** The records that turn the persisted role settings {@code from} into {@code to}. */
    static List<RegistryOp> roleChanges(RoleConfig from, RoleConfig to) {
        java.util.Set<String> roles = new java.util.TreeSet<>();
        roles.addAll(from.weights().keySet());
        roles.addAll(from.quotas().keySet());
        roles.addAll(to.weights().keySet());
        roles.addAll(to.quotas().keySet());
        List<RegistryOp> ops = new ArrayList<>();
        for (String role : roles) {
            double weight = to.weights().getOrDefault(role, 1.0);
            Quota quota = to.quotas().getOrDefault(role, Quota.NONE);
            boolean same = from.weights().getOrDefault(role, 1.0) == weight
                    && from.quotas().getOrDefault(role, Quota.NONE).equals(quota);
            if (same) {
                continue;
            }
            if (weight == 1.0 && quota.isEmpty()) {
                ops.add(RegistryOp.delete(ROLES, role));
            } else {
                ops.add(RegistryOp.put(ROLES, role, RegistryRole.newBuilder().setRole(role).setWeight(weight)
                        .putAllGuaranteesMilli(quota.guarantees()).putAllLimitsMilli(quota.limits()).build()
                        .toByteArray()));
            }
        }
        return ops;
    }

    static RegistryOp admitted(AgentInfo info, double registeredTime) {
        return admitted(info, registeredTime, "");
    }

    /** An admitted agent, owned by {@code principal} ("" for anonymous). */
    static RegistryOp admitted(AgentInfo info, double registeredTime, String principal) {
        return put(RegistryAgent.newBuilder().setInfo(info).setState(RegistryAgent.State.ADMITTED)
                .setRegisteredTime(registeredTime).setPrincipal(principal).build());
    }

    static RegistryOp unreachable(AgentInfo info, double registeredTime, double unreachableTime) {
        return unreachable(info, registeredTime, unreachableTime, "");
    }

    static RegistryOp unreachable(AgentInfo info, double registeredTime, double unreachableTime, String principal) {
        return put(RegistryAgent.newBuilder().setInfo(info).setState(RegistryAgent.State.UNREACHABLE)
                .setRegisteredTime(registeredTime).setUnreachableTime(unreachableTime).setPrincipal(principal).build());
    }

    static RegistryOp gone(AgentInfo info, double registeredTime, double goneTime) {
        return gone(info, registeredTime, goneTime, "");
    }

    static RegistryOp gone(AgentInfo info, double registeredTime, double goneTime, String principal) {
        return put(RegistryAgent.newBuilder().setInfo(info).setState(RegistryAgent.State.GONE)
                .setRegisteredTime(registeredTime).setGoneTime(goneTime).setPrincipal(principal).build());
    }

    static RegistryOp active(FrameworkInfo info, double registeredTime, double disconnectedTime) {
        return put(RegistryFramework.newBuilder().setInfo(info).setState(RegistryFramework.State.ACTIVE)
                .setRegisteredTime(registeredTime).setDisconnectedTime(disconnectedTime).build());
    }

    static RegistryOp removed(FrameworkInfo info, double registeredTime, double removedTime) {
        return put(RegistryFramework.newBuilder().setInfo(info).setState(RegistryFramework.State.REMOVED)
                .setRegisteredTime(registeredTime).setRemovedTime(removedTime).build());
    }

    /** The drain of an agent (DRAINING or DRAINED). */
    static RegistryOp drain(String agentId, DrainInfo drain) {
        return RegistryOp.put(DRAINS, agentId, RegistryDrain.newBuilder()
                .setAgentId(io.mezzo.proto.v1.AgentID.newBuilder().setValue(agentId)).setDrain(drain).build().toByteArray());
    }

    /** The drain of an agent ends (ReactivateAgent). */
    static RegistryOp undrain(String agentId) {
        return RegistryOp.delete(DRAINS, agentId);
    }

    /** The pending maintenance windows; none deletes the record. */
    static RegistryOp maintenance(List<MaintenanceWindow> windows) {
        return windows.isEmpty() ? RegistryOp.delete(MAINTENANCE, SCHEDULE) : RegistryOp.put(MAINTENANCE, SCHEDULE,
                RegistryMaintenance.newBuilder().addAllWindows(windows).build().toByteArray());
    }

    static RegistryOp forgetFramework(String id) {
        return RegistryOp.delete(FRAMEWORKS, id);
    }

    private static RegistryOp put(RegistryAgent a) {
        return RegistryOp.put(AGENTS, a.getInfo().getId().getValue(), a.toByteArray());
    }

    private static RegistryOp put(RegistryFramework f) {
        return RegistryOp.put(FRAMEWORKS, f.getInfo().getId().getValue(), f.toByteArray());
    }
}

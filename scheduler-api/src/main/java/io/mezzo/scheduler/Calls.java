package io.mezzo.scheduler;

import com.google.protobuf.ByteString;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskStatus;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Builds the {@link Call} messages. Pure functions; any thread. */
final class Calls {

    private Calls() {}

    static Call subscribe(FrameworkInfo info) {
        Call.Builder call = Call.newBuilder()
                .setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(info));
        if (info.hasId() && !info.getId().getValue().isEmpty()) {
            call.setFrameworkId(info.getId());
        }
        return call.build();
    }

    static Call teardown(FrameworkID id) {
        return envelope(id, Call.Type.TEARDOWN).build();
    }

    static Call accept(FrameworkID id, List<OfferID> offerIds, List<Offer.Operation> operations, Filters filters) {
        Objects.requireNonNull(offerIds, "offerIds");
        Objects.requireNonNull(operations, "operations");
        Call.Accept.Builder accept =
                Call.Accept.newBuilder().addAllOfferIds(offerIds).addAllOperations(operations);
        if (filters != null) {
            accept.setFilters(filters);
        }
        return envelope(id, Call.Type.ACCEPT).setAccept(accept).build();
    }

    static Offer.Operation launch(List<TaskInfo> tasks) {
        Objects.requireNonNull(tasks, "tasks");
        return Offer.Operation.newBuilder()
                .setType(Offer.Operation.Type.LAUNCH)
                .setLaunch(Offer.Operation.Launch.newBuilder().addAllTaskInfos(tasks))
                .build();
    }

    static Call decline(FrameworkID id, List<OfferID> offerIds, Filters filters) {
        Objects.requireNonNull(offerIds, "offerIds");
        Call.Decline.Builder decline = Call.Decline.newBuilder().addAllOfferIds(offerIds);
        if (filters != null) {
            decline.setFilters(filters);
        }
        return envelope(id, Call.Type.DECLINE).setDecline(decline).build();
    }

    static Call revive(FrameworkID id, String... roles) {
        return envelope(id, Call.Type.REVIVE)
                .setRevive(Call.Revive.newBuilder().addAllRoles(roles(roles)))
                .build();
    }

    static Call suppress(FrameworkID id, String... roles) {
        return envelope(id, Call.Type.SUPPRESS)
                .setSuppress(Call.Suppress.newBuilder().addAllRoles(roles(roles)))
                .build();
    }

    static Call kill(FrameworkID id, TaskID taskId, AgentID agentId, KillPolicy killPolicy) {
        Objects.requireNonNull(taskId, "taskId");
        Call.Kill.Builder kill = Call.Kill.newBuilder().setTaskId(taskId);
        if (agentId != null) {
            kill.setAgentId(agentId);
        }
        if (killPolicy != null) {
            kill.setKillPolicy(killPolicy);
        }
        return envelope(id, Call.Type.KILL).setKill(kill).build();
    }

    static Call acknowledge(FrameworkID id, TaskStatus status) {
        return envelope(id, Call.Type.ACKNOWLEDGE)
                .setAcknowledge(Call.Acknowledge.newBuilder()
                        .setAgentId(status.getAgentId())
                        .setTaskId(status.getTaskId())
                        .setUuid(status.getUuid()))
                .build();
    }

    static Call reconcile(FrameworkID id, List<Call.Reconcile.Task> tasks) {
        Objects.requireNonNull(tasks, "tasks");
        return envelope(id, Call.Type.RECONCILE)
                .setReconcile(Call.Reconcile.newBuilder().addAllTasks(tasks))
                .build();
    }

    static Call message(FrameworkID id, AgentID agentId, ExecutorID executorId, byte[] data) {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(executorId, "executorId");
        Objects.requireNonNull(data, "data");
        return envelope(id, Call.Type.MESSAGE)
                .setMessage(Call.Message.newBuilder()
                        .setAgentId(agentId)
                        .setExecutorId(executorId)
                        .setData(ByteString.copyFrom(data)))
                .build();
    }

    private static Call.Builder envelope(FrameworkID id, Call.Type type) {
        return Call.newBuilder().setFrameworkId(id).setType(type);
    }

    private static List<String> roles(String... roles) {
        Objects.requireNonNull(roles, "roles");
        List<String> list = Arrays.asList(roles);
        list.forEach(r -> Objects.requireNonNull(r, "role"));
        return list;
    }
}

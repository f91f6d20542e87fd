package io.mezzo.testkit;

import com.google.protobuf.ByteString;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.proto.v1.Value;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;

/**
 * Builders for the protocol messages tests send, so that a task, a framework, an acknowledgement or
 * a scheduler event (for a {@link ScriptedMaster} to send) is built the same way in every module. Builders are returned where tests commonly adjust the
 * message; resources are given in Mesos text form ({@code "cpus:0.1;mem:32;ports:[31000-31009]"}).
 *
 * <p>Pure; any thread.
 */
public final class Protos {

    private Protos() {}

    /** A framework named {@code name}, run as user "nobody", with a 60 s failover timeout. */
    public static FrameworkInfo.Builder framework(String name) {
        return FrameworkInfo.newBuilder().setName(name).setUser("nobody").setFailoverTimeout(60);
    }

    /** A task named after its id on {@code agentId}, running {@code true}, with {@code resources}. */
    public static TaskInfo.Builder task(String id, String agentId, String resources) {
        return TaskInfo.newBuilder()
                .setName(id)
                .setTaskId(TaskID.newBuilder().setValue(id))
                .setAgentId(AgentID.newBuilder().setValue(agentId))
                .addAllResources(resources(resources))
                .setCommand(shell("true"));
    }

    /** A task on the offer's agent (see {@link #task(String, String, String)}). */
    public static TaskInfo.Builder task(String id, Offer offer, String resources) {
        return task(id, offer.getAgentId().getValue(), resources);
    }

    /** A small task (cpus 0.1, mem 32) on the offer's agent that runs {@code command} in a shell. */
    public static TaskInfo shellTask(String id, Offer offer, String command) {
        return task(id, offer, "cpus:0.1;mem:32").setCommand(shell(command)).build();
    }

    /** A shell command. */
    public static CommandInfo shell(String command) {
        return CommandInfo.newBuilder().setShell(command).build();
    }

    /** Resources from Mesos text form, unreserved unless the text says otherwise. */
    public static List<Resource> resources(String text) {
        return ResourceText.parse(text).toProto();
    }

    /** One scalar resource of {@code milli} thousandths. */
    public static Resource scalar(String name, long milli) {
        return Resource.newBuilder()
                .setName(name)
                .setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(milli))
                .build();
    }

    /** An ACCEPT of one offer that launches {@code tasks} (the framework id is left to the caller). */
    public static Call.Builder launch(Offer offer, TaskInfo... tasks) {
        return Call.newBuilder().setType(Call.Type.ACCEPT).setAccept(Call.Accept.newBuilder()
                .addOfferIds(offer.getId())
                .addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.LAUNCH)
                        .setLaunch(Offer.Operation.Launch.newBuilder().addAllTaskInfos(List.of(tasks)))));
    }

    /** A SUBSCRIBED event for {@code frameworkId} from {@code master}, with 15 s heartbeats. */
    public static Event subscribed(String frameworkId, MasterInfo master) {
        return Event.newBuilder()
                .setType(Event.Type.SUBSCRIBED)
                .setSubscribed(Event.Subscribed.newBuilder()
                        .setFrameworkId(FrameworkID.newBuilder().setValue(frameworkId))
                        .setHeartbeatIntervalSeconds(15)
                        .setMasterInfo(master))
                .build();
    }

    /** An offer of {@code resources} on {@code agentId} (host "host-" + agent id), to framework-1. */
    public static Offer offer(String id, String agentId, String resources) {
        return Offer.newBuilder()
                .setId(OfferID.newBuilder().setValue(id))
                .setFrameworkId(FrameworkID.newBuilder().setValue("framework-1"))
                .setAgentId(AgentID.newBuilder().setValue(agentId))
                .setHostname("host-" + agentId)
                .addAllResources(ResourceText.parse(resources).toProto("*"))
                .build();
    }

    /** An OFFERS event. */
    public static Event offers(Offer... offers) {
        return Event.newBuilder()
                .setType(Event.Type.OFFERS)
                .setOffers(Event.Offers.newBuilder().addAllOffers(List.of(offers)))
                .build();
    }

    /**
     * A status of {@code taskId} on {@code agentId}, as the master makes it (no uuid); add {@link
     * #uuid()} for one an agent sends.
     */
    public static TaskStatus.Builder status(String taskId, String agentId, TaskState state) {
        return TaskStatus.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue(taskId))
                .setAgentId(AgentID.newBuilder().setValue(agentId))
                .setState(state);
    }

    /** An UPDATE event carrying {@code status}. */
    public static Event update(TaskStatus status) {
        return Event.newBuilder()
                .setType(Event.Type.UPDATE)
                .setUpdate(Event.Update.newBuilder().setStatus(status))
                .build();
    }

    /** A fresh random status update uuid: 16 bytes. */
    public static ByteString uuid() {
        UUID u = UUID.randomUUID();
        return ByteString.copyFrom(ByteBuffer.allocate(16)
                .putLong(u.getMostSignificantBits())
                .putLong(u.getLeastSignificantBits())
                .array());
    }

    /** The master's acknowledgement of {@code update}, as an agent receives it. */
    public static MasterMessage ack(StatusUpdate update) {
        return MasterMessage.newBuilder()
                .setType(MasterMessage.Type.STATUS_UPDATE_ACK)
                .setStatusUpdateAck(MasterMessage.StatusUpdateAck.newBuilder()
                        .setFrameworkId(update.getFrameworkId())
                        .setTaskId(update.getStatus().getTaskId())
                        .setUuid(update.getStatus().getUuid()))
                .build();
    }
}

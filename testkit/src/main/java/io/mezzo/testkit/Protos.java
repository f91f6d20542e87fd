package io.mezzo.testkit;

import com.google.protobuf.ByteString;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.Value;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;

/**
 * Builders for the protocol messages tests send, so that a task, a framework or an acknowledgement
 * is built the same way in every module. Builders are returned where tests commonly adjust the
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

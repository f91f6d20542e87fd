package io.mezzo.scheduler;

import com.google.protobuf.ByteString;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builders of the events a scripted master sends, and of the ids tests use. */
final class Events {

    private Events() {}

    static FrameworkID frameworkId(String value) {
        return FrameworkID.newBuilder().setValue(value).build();
    }

    static AgentID agentId(String value) {
        return AgentID.newBuilder().setValue(value).build();
    }

    static OfferID offerId(String value) {
        return OfferID.newBuilder().setValue(value).build();
    }

    static Event subscribed(String frameworkId, double heartbeatSeconds, MasterInfo master) {
        return Event.newBuilder()
                .setType(Event.Type.SUBSCRIBED)
                .setSubscribed(Event.Subscribed.newBuilder()
                        .setFrameworkId(frameworkId(frameworkId))
                        .setHeartbeatIntervalSeconds(heartbeatSeconds)
                        .setMasterInfo(master))
                .build();
    }

    static Offer offer(String id, String agent) {
        return Offer.newBuilder()
                .setId(offerId(id))
                .setFrameworkId(frameworkId("framework-1"))
                .setAgentId(agentId(agent))
                .setHostname("host-" + agent)
                .build();
    }

    static Event offers(Offer... offers) {
        return Event.newBuilder()
                .setType(Event.Type.OFFERS)
                .setOffers(Event.Offers.newBuilder().addAllOffers(List.of(offers)))
                .build();
    }

    static Event rescind(String offer) {
        return Event.newBuilder()
                .setType(Event.Type.RESCIND)
                .setRescind(Event.Rescind.newBuilder().setOfferId(offerId(offer)))
                .build();
    }

    /** A status; an empty {@code uuid} makes it a master-generated one. */
    static TaskStatus status(String task, String agent, TaskState state, String uuid) {
        return TaskStatus.newBuilder()
                .setTaskId(TaskID.newBuilder().setValue(task))
                .setAgentId(agentId(agent))
                .setState(state)
                .setUuid(ByteString.copyFrom(uuid, StandardCharsets.UTF_8))
                .build();
    }

    static Event update(TaskStatus status) {
        return Event.newBuilder()
                .setType(Event.Type.UPDATE)
                .setUpdate(Event.Update.newBuilder().setStatus(status))
                .build();
    }

    static Event heartbeat() {
        return Event.newBuilder().setType(Event.Type.HEARTBEAT).build();
    }

    static Event error(Event.Error.Code code, String message, Call.Type callType) {
        return Event.newBuilder()
                .setType(Event.Type.ERROR)
                .setError(Event.Error.newBuilder().setCode(code).setMessage(message).setCallType(callType))
                .build();
    }
}

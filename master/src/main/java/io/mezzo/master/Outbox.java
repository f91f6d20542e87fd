package io.mezzo.master;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.mezzo.common.validation.Limits;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the master sends, built and queued in one place for every manager: events to schedulers
 * (updates, errors, refusals), messages to agents (stamped with the term's epoch), and the task
 * statuses the master makes itself (reconciliation answers, TASK_LOST and friends, with the
 * partition-aware mapping of {@link #forFramework}).
 *
 * <p>Sending only queues on the peer's {@code OutboundStream}, which keeps order per stream and
 * drops a peer that stays slow. A message for a peer without an open stream is dropped: the peer
 * learns the state again when it comes back (agents resend updates, schedulers reconcile).
 *
 * <p>Owner: {@link MasterCore}; shared by the managers. Thread: the master's event loop only. No
 * state of its own (the epoch is the {@link LeaderTerm}'s).
 */
final class Outbox {

    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

    private final Clock clock;
    private final LeaderTerm term;

    Outbox(Clock clock, LeaderTerm term) {
        this.clock = clock;
        this.term = term;
    }

    // ------------------------------------------------------------------------------------------
    // To schedulers
    // ------------------------------------------------------------------------------------------

    void sendUpdate(FrameworkRecord fw, TaskStatus status) {
        sendEvent(fw, Event.newBuilder().setType(Event.Type.UPDATE).setUpdate(Event.Update.newBuilder().setStatus(status))
                .build());
    }

    void sendEvent(FrameworkRecord fw, Event event) {
        if (fw != null && fw.connection != null) {
            fw.connection.out.send(event);
        }
    }

    /** Refuses one call of a subscribed framework with an ERROR event; the stream stays open. */
    void refuse(FrameworkRecord fw, Call.Type type, Event.Error.Code code, String message) {
        message = Limits.cut(message, Limits.MESSAGE);
        LOG.info("Refused {} of framework {}: {}", type, fw.id, message);
        sendEvent(fw, errorEvent(code, type, message));
    }

    /** Refuses a call on a stream that has no framework (yet) and closes the stream. */
    void rejectStream(SchedulerConnection conn, Call.Type type, String message) {
        message = Limits.cut(message, Limits.MESSAGE);
        LOG.info("Refused {} on {}: {}", type, conn, message);
        conn.out.send(errorEvent(Event.Error.Code.INVALID_CALL, type, message));
        conn.out.fail(Status.INVALID_ARGUMENT.withDescription(message));
    }

    static Event errorEvent(Event.Error.Code code, Call.Type type, String message) {
        if (type == Call.Type.UNRECOGNIZED) {
            // A type number this master does not know cannot be echoed back as an enum.
            type = Call.Type.UNKNOWN;
        }
        return Event.newBuilder()
                .setType(Event.Type.ERROR)
                .setError(Event.Error.newBuilder().setCode(code).setCallType(type)
                        .setMessage(Limits.cut(message, Limits.MESSAGE)))
                .build();
    }

    // ------------------------------------------------------------------------------------------
    // To agents
    // ------------------------------------------------------------------------------------------

    void sendToAgent(AgentRecord agent, MasterMessage.Builder message) {
        if (agent.connection != null) {
            agent.connection.out.send(withEpoch(message));
        }
    }

    MasterMessage withEpoch(MasterMessage.Builder message) {
        return message.setEpoch(term.masterInfo().getEpoch()).build();
    }

    /** Tells the agent to kill the executors of a framework and forget it. */
    void shutdownFramework(AgentRecord agent, FrameworkId framework) {
        sendToAgent(agent, MasterMessage.newBuilder()
                .setType(MasterMessage.Type.SHUTDOWN_FRAMEWORK)
                .setShutdownFramework(MasterMessage.ShutdownFramework.newBuilder().setFrameworkId(framework.toProto())));
    }

    /** Tells an agent removed from the cluster to shut down, and ends its stream. */
    void shutdownAgent(AgentConnection conn, AgentId id) {
        conn.out.send(withEpoch(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.SHUTDOWN)
                .setShutdown(MasterMessage.Shutdown.newBuilder().setMessage("agent " + id
                        + " was marked gone and cannot rejoin under this id; to run this host again, restart the"
                        + " agent with --recover=cleanup (it kills what the old agent left and registers anew)"))));
        conn.out.complete();
    }

    /** Refuses an agent's message with an ERROR and ends the stream (the agent reconnects). */
    /**
     * Refuses an agent stream for lack of permission (an agent id that belongs to another
     * principal): logged at WARN, answered PERMISSION_DENIED, closed.
     */
    void denyAgent(AgentConnection conn, String message) {
        LOG.warn("Refused {}: permission denied: {}", conn, message);
        conn.out.fail(Status.PERMISSION_DENIED.withDescription(message));
    }

    /**
     * Refuses a SUBSCRIBE for lack of permission (another principal's framework id, a role the
     * ACLs refuse): an ERROR event, then the stream fails PERMISSION_DENIED. Logged at WARN.
     */
    void denyStream(SchedulerConnection conn, Call.Type type, String message) {
        LOG.warn("Refused {} on {}: permission denied: {}", type, conn, message);
        conn.out.send(errorEvent(Event.Error.Code.INVALID_CALL, type, message));
        conn.out.fail(Status.PERMISSION_DENIED.withDescription(message));
    }

    void rejectAgent(AgentConnection conn, String message) {
        message = Limits.cut(message, Limits.MESSAGE);
        LOG.warn("Refused {}: {}", conn, message);
        conn.out.send(withEpoch(MasterMessage.newBuilder()
                .setType(MasterMessage.Type.ERROR)
                .setShutdown(MasterMessage.Shutdown.newBuilder().setMessage(message))));
        conn.out.complete();
    }

    // ------------------------------------------------------------------------------------------
    // Statuses made by the master
    // ------------------------------------------------------------------------------------------

    /** Frameworks that are not PARTITION_AWARE hear TASK_LOST for the partition-aware states. */
    static TaskState forFramework(FrameworkRecord fw, TaskState state) {
        if (fw.partitionAware()) {
            return state;
        }
        return switch (state) {
            case TASK_UNREACHABLE, TASK_DROPPED, TASK_GONE, TASK_UNKNOWN -> TaskState.TASK_LOST;
            default -> state;
        };
    }

    /** A status from the master itself: no uuid, so it needs no acknowledgement. */
    TaskStatus masterStatus(String taskId, String agentId, TaskState state, StatusReason reason, String message) {
        TaskStatus.Builder s = TaskStatus.newBuilder()
                .setTaskId(io.mezzo.proto.v1.TaskID.newBuilder().setValue(taskId))
                .setState(state)
                .setReason(reason)
                .setMessage(Limits.cut(message, Limits.MESSAGE))
                .setSource(StatusSource.SOURCE_MASTER)
                .setTimestamp(clock.seconds());
        if (!agentId.isEmpty()) {
            s.setAgentId(io.mezzo.proto.v1.AgentID.newBuilder().setValue(agentId));
        }
        if (!taskId.isEmpty()) {
            s.setExecutorId(ExecutorID.newBuilder().setValue(taskId));
        }
        return s.build();
    }

    /** The task's latest state as an unacknowledged master update, for reconciliation. */
    TaskStatus reconciliationStatus(FrameworkRecord fw, TaskRecord task, String message) {
        TaskStatus.Builder s = task.latestStatus.toBuilder()
                .setTaskId(task.id.toProto())
                .setAgentId(task.agent.toProto())
                .setState(forFramework(fw, task.state))
                .setReason(StatusReason.REASON_RECONCILIATION)
                .setMessage(message)
                .setSource(StatusSource.SOURCE_MASTER)
                .setTimestamp(clock.seconds())
                .setUuid(ByteString.EMPTY);
        return s.build();
    }
}

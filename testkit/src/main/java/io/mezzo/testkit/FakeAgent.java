package io.mezzo.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.TaskID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/**
 * An agent that speaks the raw wire protocol to a real master: one {@code AgentLink.Connect}
 * stream, every master message recorded in {@link #messages} except the PINGs it answers (while
 * {@link #answerPings}). It runs nothing: tests play the agent's part by sending status updates
 * themselves.
 *
 * <p>Thread-safe: gRPC threads record, the test thread sends and reads. Every wait is bounded by
 * {@link Timeouts#WAIT}.
 */
public final class FakeAgent implements AutoCloseable {

    /** Every master message received (PINGs answered are not), oldest first. */
    public final BlockingQueue<MasterMessage> messages = new LinkedBlockingQueue<>();
    /** True once the stream ended, from either side. */
    public volatile boolean closed;
    /** How the stream failed, when it did (set before {@link #closed}). */
    public volatile Throwable error;
    /** Whether PINGs are answered with PONGs; a test turns it off to make the agent unreachable. */
    public volatile boolean answerPings = true;
    /** The agent id from REGISTERED, or the one this agent re-registers with. */
    public volatile AgentID agentId;
    /** The agent info it (re-)registers with, with its id once known. */
    public volatile AgentInfo info;

    private final StreamObserver<AgentMessage> out;
    private int syncs;

    /** Opens a stream and sends nothing yet. */
    public FakeAgent(Channel channel) {
        out = AgentLinkGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(MasterMessage m) {
                if (m.getType() == MasterMessage.Type.PING && answerPings) {
                    send(AgentMessage.newBuilder().setType(AgentMessage.Type.PONG).setAgentId(agentId)
                            .setPong(AgentMessage.Pong.newBuilder().setSequence(m.getPing().getSequence())).build());
                    return;
                }
                messages.add(m);
            }

            @Override
            public void onError(Throwable t) {
                error = t;
                closed = true;
            }

            @Override
            public void onCompleted() {
                closed = true;
            }
        });
    }

    /** Opens a stream, REGISTERs as {@code hostname} with {@code resources} and waits for REGISTERED. */
    public static FakeAgent register(Channel channel, String hostname, String resources) throws InterruptedException {
        FakeAgent a = new FakeAgent(channel);
        AgentInfo unregistered = AgentInfo.newBuilder()
                .setHostname(hostname)
                .addAllResources(Protos.resources(resources))
                .build();
        a.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(unregistered))
                .build());
        a.agentId = a.next(MasterMessage.Type.REGISTERED).getRegistered().getAgentId();
        a.info = unregistered.toBuilder().setId(a.agentId).build();
        return a;
    }

    /** Sends a message as it is. */
    public synchronized void send(AgentMessage m) {
        out.onNext(m);
    }

    /** The next message of this type, skipping other types; fails after the bound. */
    public MasterMessage next(MasterMessage.Type type) throws InterruptedException {
        long deadline = System.nanoTime() + Timeouts.WAIT.toNanos();
        while (true) {
            MasterMessage m = messages.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertThat(m).as("waiting for %s", type).isNotNull();
            if (m.getType() == type) {
                return m;
            }
        }
    }

    /**
     * Waits until every message the master queued for this agent so far has arrived. An agent has
     * no call that the master answers on its own stream without side effects, so the round trip
     * goes through {@code via}, a subscribed scheduler: it ACKNOWLEDGEs a made-up task on this
     * agent, and the master forwards every ACKNOWLEDGE for a connected agent as a
     * STATUS_UPDATE_ACK on the agent's stream (it looks the task up only afterwards, and finds
     * nothing to change). The master handles the ACKNOWLEDGE after every call {@code via} sent
     * before it and after every event already on its loop, and its outbound stream keeps order, so
     * the marker arrives after anything they made it send here. The agent must be registered and
     * connected. Other messages seen meanwhile stay queued.
     */
    public void sync(FakeScheduler via) {
        String marker = "sync-" + (++syncs);
        via.call(Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setAcknowledge(Call.Acknowledge.newBuilder()
                .setAgentId(agentId)
                .setTaskId(TaskID.newBuilder().setValue(marker))
                .setUuid(ByteString.copyFrom(new byte[16]))));
        Predicate<MasterMessage> isMarker = m -> m.getType() == MasterMessage.Type.STATUS_UPDATE_ACK
                && m.getStatusUpdateAck().getTaskId().getValue().equals(marker);
        Awaitility.await(marker).atMost(Timeouts.WAIT).until(() -> messages.stream().anyMatch(isMarker));
        messages.removeIf(isMarker);
    }

    /**
     * Asserts that no message of this type arrived, after a round trip to this agent through
     * {@code via} ({@link #sync(FakeScheduler)}), so a message still on the wire cannot slip past
     * the check.
     */
    public void assertNone(MasterMessage.Type type, FakeScheduler via) {
        sync(via);
        assertThat(messages).noneMatch(m -> m.getType() == type);
    }

    /** Half-closes the stream, as an agent that goes away cleanly. */
    @Override
    public void close() {
        if (!closed) {
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // already cancelled
            }
        }
    }
}

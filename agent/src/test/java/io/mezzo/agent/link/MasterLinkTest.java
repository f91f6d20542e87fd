package io.mezzo.agent.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.testkit.Loops;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The master link against scripted masters over real gRPC on 127.0.0.1, on a manual clock (so a
 * connection that happens without advancing it did not wait for the backoff), following a detector
 * the test drives: how it treats "not the leader; the leader is X" answers.
 */
class MasterLinkTest {

    private static final Duration BACKOFF = Duration.ofSeconds(1);

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final TestDetector detector = new TestDetector();
    private final List<ScriptedMaster> masters = new CopyOnWriteArrayList<>();
    private EventLoop loop;
    private MasterLink link;

    @BeforeEach
    void start() {
        loop = new EventLoop("agent-loop", clock, faults);
        link = new MasterLink(loop, detector, new MasterLink.Settings(BACKOFF, BACKOFF, Duration.ofMinutes(10), 100),
                new Random(1), faults, new Handler(), ack -> {});
        link.start();
    }

    @AfterEach
    void stop() throws Exception {
        on(() -> {
            link.close();
            return null;
        });
        link.awaitTermination(Timeouts.WAIT);
        loop.close();
        masters.forEach(ScriptedMaster::close);
        faults.assertNoFaults();
    }

    @Test
    void aLeaderHintIsFollowedAtOnceAndTheDetectorIsAskedAgain() throws Exception {
        ScriptedMaster standby = master();
        ScriptedMaster leader = master();
        standby.redirectTo(leader.address());
        detector.name(standby);

        // The clock never moves: the link did not wait for its backoff.
        ScriptedMaster.AgentStream stream = leader.nextAgentStream();
        stream.next(AgentMessage.Type.REGISTER);
        assertThat(standby.redirected()).isEqualTo(1);
        assertThat(detector.redetects.get()).isEqualTo(1);
        stream.send(registered(leader));
        await().atMost(Timeouts.WAIT).until(() -> on(link::state) == MasterLink.State.REGISTERED);

        // The detector, behind, still names the standby: a repeat is no news; the link stays.
        detector.repeat();
        detector.name(Optional.empty());
        Loops.settle(loop::barrier);
        assertThat(on(link::state)).isEqualTo(MasterLink.State.REGISTERED);
        assertThat(stream.ended()).isFalse();
        Loops.advance(clock, BACKOFF.multipliedBy(2), loop::barrier);
        assertThat(standby.redirected()).isEqualTo(1);
        assertThat(stream.ended()).isFalse();
    }

    @Test
    void newsFromTheDetectorWinsOverAHint() throws Exception {
        ScriptedMaster standby = master();
        ScriptedMaster hinted = master();
        ScriptedMaster elected = master();
        standby.redirectTo(hinted.address());
        detector.name(standby);
        ScriptedMaster.AgentStream stream = hinted.nextAgentStream();
        stream.next(AgentMessage.Type.REGISTER);

        detector.name(elected);
        elected.nextAgentStream().next(AgentMessage.Type.REGISTER);
        assertThat(stream.awaitPeerEnded()).isEqualTo("cancelled");
    }

    @Test
    void mastersNamingEachOtherAreFollowedAtOnceOnlyOnce() throws Exception {
        ScriptedMaster a = master();
        ScriptedMaster b = master();
        a.redirectTo(b.address());
        b.redirectTo(a.address());
        detector.name(a);

        await().atMost(Timeouts.WAIT).until(() -> b.redirected() >= 1);
        await().atMost(Timeouts.WAIT).until(() -> on(link::state) == MasterLink.State.BACKING_OFF);
        // The second hint in a row waits for the backoff: settling fires nothing due.
        Loops.settle(loop::barrier);
        assertThat(on(link::state)).isEqualTo(MasterLink.State.BACKING_OFF);
        assertThat(a.redirected()).isEqualTo(1);

        Loops.advance(clock, BACKOFF, loop::barrier);
        await().atMost(Timeouts.WAIT).until(() -> a.redirected() == 2);
        assertThat(b.redirected()).isEqualTo(1);
    }

    @Test
    void anInvalidHintIsIgnoredAndTheSameMasterRetriedAtOnceThenAfterTheBackoff() throws Exception {
        ScriptedMaster a = master();
        a.redirectTo("zk://127.0.0.1:2181/mezzo");
        detector.name(a);

        // The first failure is retried at once, the second waits for the backoff.
        await().atMost(Timeouts.WAIT).until(() -> a.redirected() == 2);
        await().atMost(Timeouts.WAIT).until(() -> on(link::state) == MasterLink.State.BACKING_OFF);
        Loops.settle(loop::barrier);
        assertThat(on(link::state)).isEqualTo(MasterLink.State.BACKING_OFF);
        assertThat(a.redirected()).isEqualTo(2);
        assertThat(detector.redetects.get()).isZero();

        a.redirectTo(null);
        Loops.advance(clock, BACKOFF, loop::barrier);
        a.nextAgentStream().next(AgentMessage.Type.REGISTER);
    }

    @Test
    void aHintedMasterThatFailsSendsTheLinkBackToTheDetectorsLeader() throws Exception {
        ScriptedMaster a = master();
        ScriptedMaster b = master();
        a.redirectTo(b.address());
        detector.name(a);
        ScriptedMaster.AgentStream stream = b.nextAgentStream();
        stream.next(AgentMessage.Type.REGISTER);

        a.redirectTo(null);
        stream.fail();
        // The first failure since registering is retried at once: the clock does not move.
        a.nextAgentStream().next(AgentMessage.Type.REGISTER);
    }

    // ---------------------------------------------------------------- helpers

    private ScriptedMaster master() {
        ScriptedMaster m = ScriptedMaster.start();
        masters.add(m);
        return m;
    }

    private static MasterMessage registered(ScriptedMaster m) {
        return MasterMessage.newBuilder()
                .setType(MasterMessage.Type.REGISTERED)
                .setEpoch(1)
                .setRegistered(MasterMessage.Registered.newBuilder()
                        .setAgentId(AgentID.newBuilder().setValue("agent-1"))
                        .setMasterInfo(m.info())
                        .setPingIntervalSeconds(10)
                        .setMaxPingTimeouts(3))
                .build();
    }

    private <T> T on(Supplier<T> read) throws Exception {
        return loop.call(read).get(Timeouts.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** A detector the test drives; like the ZooKeeper one, it repeats its value when asked again. */
    private static final class TestDetector implements MasterDetector {
        final List<Consumer<Optional<MasterInfo>>> listeners = new CopyOnWriteArrayList<>();
        final AtomicInteger redetects = new AtomicInteger();
        volatile Optional<MasterInfo> leader = Optional.empty();

        void name(ScriptedMaster m) {
            name(Optional.of(m.info()));
        }

        void name(Optional<MasterInfo> next) {
            leader = next;
            repeat();
        }

        void repeat() {
            listeners.forEach(l -> l.accept(leader));
        }

        @Override
        public Optional<MasterInfo> leader() {
            return leader;
        }

        @Override
        public void addListener(Consumer<Optional<MasterInfo>> listener) {
            listeners.add(listener);
            listener.accept(leader);
        }

        @Override
        public void redetect() {
            redetects.incrementAndGet();
            repeat();
        }

        @Override
        public void close() {}
    }

    /** The agent's side, reduced to what the link needs. */
    private static final class Handler implements MasterLink.Handler {
        @Override
        public AgentInfo agentInfo() {
            return AgentInfo.newBuilder().setHostname("agent-host").build();
        }

        @Override
        public AgentMessage.Reregister reregistration(AgentInfo info) {
            return AgentMessage.Reregister.newBuilder().setAgentInfo(info).build();
        }

        @Override
        public void registered(AgentId agentId, MasterInfo master, boolean reregistered) {}

        @Override
        public void disconnected() {}

        @Override
        public void message(MasterMessage message) {}

        @Override
        public void shutdown(String reason) {}
    }
}

package io.mezzo.master;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.testkit.FakeAgent;
import io.mezzo.testkit.FakeScheduler;
import io.mezzo.testkit.Loops;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real master on 127.0.0.1 with a manual clock, plus raw protocol peers (the testkit's {@link
 * FakeScheduler} and {@link FakeAgent}, speaking the wire protocol directly) that record what the
 * master sends. Closes everything in reverse order and checks that no fault was recorded.
 */
final class MasterHarness implements AutoCloseable {

    final ManualClock clock = new ManualClock();
    final RecordingFaultHandler faults = new RecordingFaultHandler();
    final Master master;
    final ManagedChannel channel;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    MasterHarness() throws Exception {
        this(b -> {});
    }

    MasterHarness(Consumer<MasterConfig.Builder> tweak) throws Exception {
        MasterConfig.Builder b = MasterConfig.builder()
                .ip("127.0.0.1")
                .port(0)
                .httpPort(0)
                .clock(clock)
                .faultHandler(faults)
                .idPrefix("m1")
                .allocatorSeed(42L);
        tweak.accept(b);
        master = new Master(b.build());
        master.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", master.port()).usePlaintext().build();
    }

    /**
     * The operator API, after the loop has run everything queued so far: views read the state the
     * loop last published, and a barrier publishes it, so a test reads what it just did.
     */
    OperatorGrpc.OperatorBlockingStub operator() {
        settle();
        return operatorAsIs();
    }

    /** The operator API without settling first (for a loop that is wedged on purpose). */
    OperatorGrpc.OperatorBlockingStub operatorAsIs() {
        return OperatorGrpc.newBlockingStub(channel).withDeadlineAfter(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits for the master's loop to run everything queued so far. */
    void settle() {
        Loops.settle(master::barrier);
    }

    /** Advances the clock, then settles. */
    void advance(Duration d) {
        Loops.advance(clock, d, master::barrier);
    }

    /** A raw scheduler subscribed with {@code info}, closed with the harness. */
    FakeScheduler scheduler(FrameworkInfo info) throws Exception {
        FakeScheduler s = FakeScheduler.subscribe(channel, info);
        closeables.add(s);
        return s;
    }

    /** A raw scheduler stream that has sent nothing yet, closed with the harness. */
    FakeScheduler rawScheduler() {
        FakeScheduler s = new FakeScheduler(channel);
        closeables.add(s);
        return s;
    }

    /** A raw agent registered as {@code hostname} with {@code resources}, closed with the harness. */
    FakeAgent agent(String hostname, String resources) throws Exception {
        FakeAgent a = FakeAgent.register(channel, hostname, resources);
        closeables.add(a);
        return a;
    }

    /** A raw agent stream that has sent nothing yet, closed with the harness. */
    FakeAgent rawAgent() {
        FakeAgent a = new FakeAgent(channel);
        closeables.add(a);
        return a;
    }

    @Override
    public void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        master.close();
        faults.assertNoFaults();
    }
}

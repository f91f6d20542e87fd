package io.mezzo.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.scheduler.SchedulerError;
import io.mezzo.testkit.Loops;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real cluster in one JVM on 127.0.0.1: a master on a manual clock, real agents running real
 * processes, and schedulers written with the scheduler API. Everything closes in reverse order.
 * Public for the tests of other dist packages (the web UI's browser tests).
 */
public final class Cluster implements AutoCloseable {


    final ManualClock masterClock = new ManualClock();
    final RecordingFaultHandler faults = new RecordingFaultHandler();
    public final Master master;
    private final Path workRoot;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private int agents;

    public Cluster(Path workRoot) throws Exception {
        this.workRoot = workRoot;
        master = new Master(MasterConfig.builder()
                .ip("127.0.0.1")
                .port(0)
                .httpPort(0)
                .clock(masterClock)
                .faultHandler(faults)
                .idPrefix("e2e")
                .allocatorSeed(7L)
                .build());
        master.start();
    }

    String masterAddress() {
        return "127.0.0.1:" + master.port();
    }

    public Agent agent(String resources) throws Exception {
        return agent(resources, b -> {});
    }

    Agent agent(String resources, Consumer<AgentConfig.Builder> tweak) throws Exception {
        agents++;
        AgentConfig.Builder b = AgentConfig.builder()
                .master(masterAddress())
                .ip("127.0.0.1")
                .port(0)
                .hostname("agent-" + agents)
                .workDir(workRoot.resolve("agent-" + agents))
                .resources(resources)
                // Tests run tasks as whoever runs the build (root on CI machines).
                .allowRootTasks(true)
                .statusUpdateRetry(Duration.ofMillis(500), Duration.ofSeconds(2))
                .registrationBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                .faultHandler(faults);
        tweak.accept(b);
        Agent agent = new Agent(b.build());
        closeables.add(agent);
        agent.start();
        agent.registered().get(Timeouts.PROCESS.toSeconds(), TimeUnit.SECONDS);
        return agent;
    }

    public Framework framework(FrameworkInfo info) {
        return framework(info, true);
    }

    Framework framework(FrameworkInfo info, boolean autoAcknowledge) {
        Framework fw = new Framework();
        fw.driver = MezzoSchedulerClient.builder(info, fw)
                .declineUnusedOffers(false) // tests take offers after the callback
                .master(masterAddress())
                .autoAcknowledge(autoAcknowledge)
                .faultHandler(faults)
                .build();
        closeables.add(fw.driver);
        fw.driver.start();
        fw.frameworkId = fw.next(Subscribed.class).frameworkId();
        return fw;
    }

    public static FrameworkInfo.Builder frameworkInfo(String name) {
        return FrameworkInfo.newBuilder().setName(name).setFailoverTimeout(60);
    }

    /** Waits for the master to run everything queued so far. */
    public void settle() {
        Loops.settle(master::barrier);
    }

    /** Advances the master's clock and settles. */
    void advance(Duration d) {
        Loops.advance(masterClock, d, master::barrier);
    }

    @Override
    public void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        master.close();
        faults.assertNoFaults();
    }

    sealed interface Callback {}

    record Subscribed(FrameworkID frameworkId, MasterInfo master) implements Callback {}

    record Offers(List<Offer> offers) implements Callback {}

    record Rescinded(OfferID offerId) implements Callback {}

    record Update(TaskStatus status) implements Callback {}

    record ErrorReceived(SchedulerError error) implements Callback {}

    record Disconnected() implements Callback {}

    /**
     * A scheduler that records its callbacks as values. Offers are kept as outstanding until taken
     * (or rescinded); updates are kept until taken; other callbacks queue in order.
     */
    public static final class Framework implements Scheduler {
        final BlockingQueue<Callback> callbacks = new LinkedBlockingQueue<>();
        private final List<Offer> offers = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final List<TaskStatus> updates = new java.util.concurrent.CopyOnWriteArrayList<>();
        public MezzoSchedulerClient driver;
        public FrameworkID frameworkId;

        @Override
        public void subscribed(SchedulerDriver d, FrameworkID id, MasterInfo master) {
            offers.clear();
            callbacks.add(new Subscribed(id, master));
        }

        @Override
        public void offers(SchedulerDriver d, List<Offer> list) {
            offers.addAll(list);
            callbacks.add(new Offers(list));
        }

        @Override
        public void rescinded(SchedulerDriver d, OfferID id) {
            offers.removeIf(o -> o.getId().equals(id));
            callbacks.add(new Rescinded(id));
        }

        @Override
        public void update(SchedulerDriver d, TaskStatus status) {
            updates.add(status);
        }

        @Override
        public void message(SchedulerDriver d, AgentID agent, ExecutorID executor, byte[] data) {}

        @Override
        public void error(SchedulerDriver d, SchedulerError error) {
            callbacks.add(new ErrorReceived(error));
        }

        @Override
        public void disconnected(SchedulerDriver d) {
            offers.clear();
            callbacks.add(new Disconnected());
        }

        /** The next queued callback of this type; others are skipped. */
        <T extends Callback> T next(Class<T> type) {
            long deadline = System.nanoTime() + Timeouts.PROCESS.toNanos();
            while (true) {
                Callback c;
                try {
                    c = callbacks.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                assertThat(c).as("waiting for %s", type.getSimpleName()).isNotNull();
                if (type.isInstance(c)) {
                    return type.cast(c);
                }
            }
        }

        /** Takes an outstanding offer on {@code agentId}, waiting for one. */
        public Offer takeOffer(String agentId) {
            Offer[] found = new Offer[1];
            org.awaitility.Awaitility.await("an offer on " + agentId).atMost(Timeouts.PROCESS).until(() -> {
                for (Offer o : offers) {
                    if (o.getAgentId().getValue().equals(agentId) && offers.remove(o)) {
                        found[0] = o;
                        return true;
                    }
                }
                return false;
            });
            return found[0];
        }

        /** Whether an offer on {@code agentId} is outstanding. */
        boolean hasOffer(String agentId) {
            return offers.stream().anyMatch(o -> o.getAgentId().getValue().equals(agentId));
        }

        /** Takes the oldest update of {@code task} not taken yet, waiting for one. */
        public TaskStatus nextUpdate(String task) {
            TaskStatus[] found = new TaskStatus[1];
            org.awaitility.Awaitility.await("an update of " + task).atMost(Timeouts.PROCESS).until(() -> {
                for (TaskStatus s : updates) {
                    if (s.getTaskId().getValue().equals(task) && updates.remove(s)) {
                        found[0] = s;
                        return true;
                    }
                }
                return false;
            });
            return found[0];
        }

        /** Updates of {@code task} until a terminal one; returns all of them. */
        List<TaskStatus> updatesUntilTerminal(String task) {
            List<TaskStatus> seen = new ArrayList<>();
            while (true) {
                TaskStatus s = nextUpdate(task);
                seen.add(s);
                switch (s.getState()) {
                    case TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_ERROR, TASK_LOST, TASK_DROPPED, TASK_GONE -> {
                        return seen;
                    }
                    default -> {
                    }
                }
            }
        }
    }
}

package io.mezzo.scheduler;

import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskStatus;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * What a framework without Curator on its class path does: builds and starts a client for a master
 * address. {@link ZkMasterDetectionTest} loads it in a class loader that hides Curator and
 * ZooKeeper, so it and the library classes it touches see the class path a framework that depends
 * only on {@code mezzo-scheduler-api} sees. Public, because the test instantiates it from another
 * class loader; only {@link Function} (from the JDK) crosses between the two.
 */
public final class NoCuratorProbe implements Function<String, Object> {

    private static final FrameworkInfo INFO =
            FrameworkInfo.newBuilder().setName("no-curator").setUser("tester").build();

    /** For reflection. */
    public NoCuratorProbe() {}

    /**
     * The started client (an {@link AutoCloseable} the caller closes), or "ExceptionClass: message"
     * if building it failed.
     */
    @Override
    public Object apply(String master) {
        MezzoSchedulerClient client;
        try {
            client = MezzoSchedulerClient.builder(INFO, new Scheduler() {
                        @Override
                        public void offers(SchedulerDriver driver, List<Offer> offers) {}

                        @Override
                        public void update(SchedulerDriver driver, TaskStatus status) {}
                    })
                    .master(master)
                    .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(100))
                    .build();
        } catch (RuntimeException | LinkageError e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        client.start();
        return client;
    }
}

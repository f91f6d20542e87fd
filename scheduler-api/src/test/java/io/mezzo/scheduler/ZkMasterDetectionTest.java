package io.mezzo.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.mezzo.ha.zk.MasterInfoJson;
import io.mezzo.ha.zk.ZkPaths;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.scheduler.RecordingScheduler.Disconnected;
import io.mezzo.scheduler.RecordingScheduler.Subscribed;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.ScriptedMaster;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.ZkEnsemble;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * zk:// master addresses, with and without Curator on the class path. The library does not bring
 * Curator and ZooKeeper (see the pom): a framework that wants ZooKeeper master detection adds them,
 * as this module's tests do; one that does not gets a clear error, which the second half of this
 * class checks in a class loader that hides them.
 */
class ZkMasterDetectionTest {

    private static final FrameworkInfo FRAMEWORK = FrameworkInfo.newBuilder()
            .setName("test-framework")
            .setUser("tester")
            .setFailoverTimeout(60)
            .build();

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final RecordingScheduler scheduler = new RecordingScheduler();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    @AfterEach
    void tearDown() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
        faults.assertNoFaults();
    }

    // ---------------------------------------------------------------------------------------
    // With Curator: the client follows the leader published in ZooKeeper.
    // ---------------------------------------------------------------------------------------

    @Test
    void aZkMasterFollowsTheLeaderPublishedInZooKeeper() throws Exception {
        ZkEnsemble zk = new ZkEnsemble(1);
        resources.push(zk);
        ScriptedMaster a = ScriptedMaster.start(1);
        resources.push(a);
        ScriptedMaster b = ScriptedMaster.start(2);
        resources.push(b);
        CuratorFramework curator = CuratorFrameworkFactory.builder()
                .connectString(zk.connectString())
                .namespace("mezzo")
                .retryPolicy(new RetryOneTime(100))
                .build();
        resources.push(curator);
        curator.start();
        // What an elected master publishes (ZkLeaderElection): its MasterInfo as JSON.
        curator.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL)
                .forPath(ZkPaths.LEADER, MasterInfoJson.encode(a.info()));

        MezzoSchedulerClient client = MezzoSchedulerClient.builder(FRAMEWORK, scheduler)
                .master("zk://" + zk.connectString() + "/mezzo")
                .clock(clock)
                .faultHandler(faults)
                .reconnectBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30))
                .build();
        resources.push(client);
        client.start();

        ScriptedMaster.SchedulerStream onA = a.nextSchedulerStream();
        assertThat(onA.nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        onA.send(Events.subscribed("framework-1", 15, a.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(Events.frameworkId("framework-1"), a.info()));

        curator.setData().forPath(ZkPaths.LEADER, MasterInfoJson.encode(b.info()));

        assertThat(scheduler.next()).isEqualTo(new Disconnected());
        assertThat(onA.awaitPeerEnded()).isEqualTo("cancelled");
        client.barrier().get(5, TimeUnit.SECONDS);
        clock.advance(Duration.ofSeconds(1));
        ScriptedMaster.SchedulerStream onB = b.nextSchedulerStream();
        Call resubscribe = onB.nextCall();
        assertThat(resubscribe.getType()).isEqualTo(Call.Type.SUBSCRIBE);
        assertThat(resubscribe.getFrameworkId()).isEqualTo(Events.frameworkId("framework-1"));
        onB.send(Events.subscribed("framework-1", 15, b.info()));
        assertThat(scheduler.next()).isEqualTo(new Subscribed(Events.frameworkId("framework-1"), b.info()));
    }

    // ---------------------------------------------------------------------------------------
    // Without Curator: what a framework depending only on mezzo-scheduler-api gets.
    // ---------------------------------------------------------------------------------------

    @Test
    void withoutCuratorAZkMasterFailsAtOnceNamingTheDependencyToAdd() throws Exception {
        NoCuratorClassLoader loader = new NoCuratorClassLoader(getClass().getClassLoader());
        assertThatThrownBy(() -> Class.forName("org.apache.curator.framework.CuratorFramework", false, loader))
                .as("the loader hides Curator")
                .isInstanceOf(ClassNotFoundException.class);

        Object result = probe(loader).apply("zk://ops:secret@127.0.0.1:2181/mezzo");

        assertThat(result).isInstanceOf(String.class);
        assertThat((String) result)
                .startsWith("IllegalStateException: --master zk://ops:***@127.0.0.1:2181/mezzo needs ZooKeeper")
                .contains("is not on the class path")
                .contains("add the Maven dependency io.mezzo:mezzo-zk-ha")
                .doesNotContain("secret");
    }

    @Test
    void withoutCuratorAHostAndPortMasterWorks() throws Exception {
        ScriptedMaster master = ScriptedMaster.start(1);
        resources.push(master);
        NoCuratorClassLoader loader = new NoCuratorClassLoader(getClass().getClassLoader());
        Function<String, Object> probe = probe(loader);

        Object result = probe.apply(master.address());
        assertThat(result).as("a client built without Curator").isInstanceOf(AutoCloseable.class);
        try (AutoCloseable client = (AutoCloseable) result) {
            assertThat(client.getClass().getClassLoader()).isSameAs(loader);
            assertThat(master.nextSchedulerStream().nextCall().getType()).isEqualTo(Call.Type.SUBSCRIBE);
        }
    }

    @Test
    void withoutCuratorAZkLeaderHintIsIgnoredAndTheClientRetries() throws Exception {
        ScriptedMaster master = ScriptedMaster.start(1);
        resources.push(master);
        master.redirectTo("zk://127.0.0.1:2181/mezzo");
        NoCuratorClassLoader loader = new NoCuratorClassLoader(getClass().getClassLoader());

        Object result = probe(loader).apply(master.address());
        assertThat(result).as("a client built without Curator").isInstanceOf(AutoCloseable.class);
        resources.push((AutoCloseable) result); // closed before the master

        // Each attempt is refused with the zk:// hint; the client ignores the hint and retries its
        // configured master after the (10-100 ms) backoff instead of getting stuck.
        await().atMost(Timeouts.WAIT).until(() -> master.redirected() >= 3);
    }

    /** The probe, loaded and instantiated in {@code loader}. */
    @SuppressWarnings("unchecked")
    private static Function<String, Object> probe(ClassLoader loader) throws Exception {
        Class<?> probe = loader.loadClass(NoCuratorProbe.class.getName());
        assertThat(probe.getClassLoader()).isSameAs(loader);
        return (Function<String, Object>) probe.getDeclaredConstructor().newInstance();
    }

    /**
     * A class path without Curator and ZooKeeper: defines Mezzo's own classes itself (so that every
     * class they load goes through it) and refuses {@code org.apache.curator} and {@code
     * org.apache.zookeeper}; everything else (the JDK, gRPC, protobuf, SLF4J) comes from the test's
     * class loader.
     */
    static final class NoCuratorClassLoader extends ClassLoader {

        static {
            registerAsParallelCapable();
        }

        private final ClassLoader app;

        NoCuratorClassLoader(ClassLoader app) {
            super("no-curator", app);
            this.app = app;
        }

        private static boolean hidden(String name) {
            return name.startsWith("org.apache.curator.") || name.startsWith("org.apache.zookeeper.");
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (hidden(name)) {
                throw new ClassNotFoundException(name + " (hidden: no Curator or ZooKeeper on this class path)");
            }
            if (!name.startsWith("io.mezzo.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    try (InputStream in = app.getResourceAsStream(name.replace('.', '/') + ".class")) {
                        if (in == null) {
                            throw new ClassNotFoundException(name);
                        }
                        byte[] bytes = in.readAllBytes();
                        c = defineClass(name, bytes, 0, bytes.length);
                    } catch (IOException e) {
                        throw new ClassNotFoundException(name, e);
                    }
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }

        @Override
        public URL getResource(String name) {
            return hidden(name.replace('/', '.')) ? null : super.getResource(name);
        }
    }
}

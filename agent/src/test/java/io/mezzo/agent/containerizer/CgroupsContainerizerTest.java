package io.mezzo.agent.containerizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.containerizer.cgroups.CgroupsDetector;
import io.mezzo.agent.containerizer.cgroups.CgroupsIsolator;
import io.mezzo.agent.testing.TestCgroups;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The containerizer with real cgroups: the kernel enforces memory and CPU limits, and a kill takes
 * every process of the container, double-forked daemons included. Runs when the tests run as root on a
 * host whose cgroups the agent can manage (CI); elsewhere each test is skipped with the reason.
 */
class CgroupsContainerizerTest {

    private static final long MB = 1024L * 1024L;

    @TempDir
    Path workDir;

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final String root = TestCgroups.uniqueRoot();
    private final AtomicInteger runs = new AtomicInteger();
    private final BlockingQueue<Termination> exits = new LinkedBlockingQueue<>();
    private final BlockingQueue<Boolean> cleaned = new LinkedBlockingQueue<>();
    private EventLoop loop;
    private Containerizer containerizer;
    private CgroupsIsolator isolator;

    @BeforeEach
    void start() throws IOException {
        String reason = TestCgroups.unavailableReason();
        if (reason != null) {
            System.out.println("CgroupsContainerizerTest skipped: " + reason);
        }
        Assumptions.assumeTrue(reason == null, () -> "cgroups cannot be managed here: " + reason);
        loop = new EventLoop("test-loop", clock, faults);
        start(false);
    }

    private void start(boolean cfs) throws IOException {
        CgroupsDetector.Result detected = CgroupsDetector.detect(root, cfs, false);
        assertThat(detected.available()).as(detected.reason()).isTrue();
        isolator = detected.isolator();
        containerizer = new Containerizer(loop, System.getenv(), isolator, LauncherScript.install(workDir));
    }

    @AfterEach
    void stop() throws Exception {
        if (loop == null) {
            return;
        }
        List<CompletableFuture<?>> gone = on(containerizer::destroyAll);
        CompletableFuture.allOf(gone.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
        loop.close();
        TestCgroups.remove(root);
        faults.assertNoFaults();
    }

    @Test
    void aTaskPastItsMemoryLimitIsKilledByTheKernel() throws Exception {
        // tail keeps a line without a newline in memory: 256 MB of zeros against a 64 MB limit.
        Container c = launch(shell("head -c 268435456 /dev/zero | tail > /dev/null"), new Limits(100, 64 * MB, 0));
        Termination t = exit();
        assertThat(t.oomKills()).isPositive();
        assertThat(t.signal()).hasValue(9);
        assertThat(t.memPeakBytes()).isLessThanOrEqualTo(64 * MB + MB);
        awaitCleanedUp();
        assertThat(c.isolation().dirs()).allMatch(d -> !Files.exists(d));
    }

    @Test
    void aHardCpuLimitIsACfsQuotaThatThrottlesABusyTask() throws Exception {
        start(true);
        Container c = launch(shell("while :; do :; done"), new Limits(200, 64 * MB, 0));
        Path cpu = cpuDir(c);
        // 0.2 cpus: 20 ms of CPU time in every 100 ms period.
        if (isolator.version() == CgroupsIsolator.Version.V2) {
            assertThat(read(cpu.resolve("cpu.max")).trim()).isEqualTo("20000 100000");
        } else {
            assertThat(read(cpu.resolve("cpu.cfs_period_us")).trim()).isEqualTo("100000");
            assertThat(read(cpu.resolve("cpu.cfs_quota_us")).trim()).isEqualTo("20000");
        }
        // Once the task has used many periods' worth of quota, the kernel must have throttled it: a task
        // without a quota is never throttled, however loaded the host (no wall-clock ratio involved).
        await().atMost(Timeouts.PROCESS).until(() -> cpuSeconds(containerizer.sample(c)) >= 0.3);
        Map<String, Long> stat = keyed(cpu.resolve("cpu.stat"));
        System.out.printf("cpu-bound task with cpus 0.2 under CFS: %.2f cpu-seconds, cpu.stat %s%n",
                cpuSeconds(containerizer.sample(c)), stat);
        assertThat(stat.getOrDefault("nr_throttled", 0L)).as("nr_throttled in %s", cpu.resolve("cpu.stat"))
                .isPositive();
        run(() -> containerizer.kill(c, Duration.ZERO));
        exit();
    }

    @Test
    void withoutCfsTheCpuIsWeightedButNotCapped() throws Exception {
        Container c = launch(shell("sleep 600"), new Limits(200, 64 * MB, 0));
        Path cpu = cpuDir(c);
        if (isolator.version() == CgroupsIsolator.Version.V2) {
            assertThat(read(cpu.resolve("cpu.max")).trim()).startsWith("max ");
        } else {
            assertThat(read(cpu.resolve("cpu.cfs_quota_us")).trim()).isEqualTo("-1");
            assertThat(read(cpu.resolve("cpu.shares")).trim()).isEqualTo("204");
        }
        run(() -> containerizer.kill(c, Duration.ZERO));
        exit();
    }

    @Test
    void killTakesEveryProcessIncludingDoubleForkedDaemons() throws Exception {
        // A child, a daemon in a session of its own, and one that double-forked (its parent exits).
        Container c = launch(shell("sleep 600 & setsid sleep 600 & (nohup sleep 600 >/dev/null 2>&1 &) ;"
                + " echo started; wait"), new Limits(100, 64 * MB, 0));
        await().atMost(Timeouts.PROCESS).until(() -> read(c.sandbox().resolve("stdout")).contains("started"));
        await().atMost(Timeouts.PROCESS).until(() -> isolator.members(c.isolation(), c.pid(), c.marker()).size() >= 5);
        List<Long> members = isolator.members(c.isolation(), c.pid(), c.marker());
        // The double-forked sleep is nobody's descendant any more: only the cgroup still knows it.
        assertThat(members.stream().filter(p -> !isDescendant(c, p)).count()).isPositive();

        run(() -> containerizer.kill(c, Duration.ofSeconds(30)));
        Termination t = exit();
        assertThat(t.killedWith()).isEqualTo(Termination.KillSignal.SIGTERM);
        await().atMost(Timeouts.PROCESS).untilAsserted(() -> assertThat(members).noneMatch(TestCgroups::running));
        awaitCleanedUp();
    }

    @Test
    void whatACommandLeavesBehindGoesWithIt() throws Exception {
        Container c = launch(shell("(setsid sleep 600 &); echo $$ > pid"), new Limits(100, 64 * MB, 0));
        assertThat(exit().exitValue()).isZero();
        awaitCleanedUp();
        assertThat(c.isolation().dirs()).allMatch(d -> !Files.exists(d));
        assertThat(isolator.members(c.isolation(), c.pid(), c.marker())).isEmpty();
    }

    @Test
    void samplesUsageFromTheCgroup() throws Exception {
        Container c = launch(shell("sleep 600 & sleep 600 & wait"), new Limits(500, 128 * MB, 0));
        await().atMost(Timeouts.PROCESS).until(() -> containerizer.sample(c).processes() >= 4);
        UsageSample s = containerizer.sample(c);
        assertThat(s.memLimitBytes()).isEqualTo(128 * MB);
        assertThat(s.rssBytes()).isPositive();
        assertThat(s.oomKills()).isZero();
        assertThat(c.isolation().isolator()).isEqualTo(isolator.name());
        run(() -> containerizer.kill(c, Duration.ZERO));
        assertThat(exit().killedWith()).isEqualTo(Termination.KillSignal.SIGKILL);
    }

    @Test
    void destroysTheCgroupOfAContainerItDidNotLaunch() throws Exception {
        Container c = launch(shell("sleep 600"), new Limits(100, 64 * MB, 0));
        List<Long> members = isolator.members(c.isolation(), c.pid(), c.marker());
        // As after an agent restart: only the checkpointed name and a pid that is no longer trusted.
        CompletableFuture<Void> done = on(() -> containerizer.destroy(c.id(), c.isolation().name(), 0, 0));
        exit();
        await().atMost(Timeouts.PROCESS).until(() -> {
            clock.advance(Duration.ofMillis(100));
            return done.isDone();
        });
        assertThat(done).isCompleted();
        assertThat(members).noneMatch(TestCgroups::running);
    }

    @Test
    void cgroupsV2WhenTheUnifiedHierarchyHasTheControllers() throws Exception {
        String v2root = TestCgroups.uniqueRoot();
        CgroupsDetector.Result v2 = CgroupsDetector.detectV2(v2root, false);
        if (!v2.available()) {
            System.out.println("cgroups v2 test skipped: " + v2.reason());
        }
        Assumptions.assumeTrue(v2.available(), () -> "no usable cgroups v2 hierarchy: " + v2.reason());
        try {
            Containerizer v2containerizer = new Containerizer(loop, System.getenv(), v2.isolator(),
                    LauncherScript.install(workDir));
            BlockingQueue<Termination> v2exits = new LinkedBlockingQueue<>();
            ContainerId id = ContainerId.of("v2-" + runs.incrementAndGet());
            Path sandbox = workDir.resolve(id.value());
            Sandbox.create(sandbox);
            Map<String, String> env = new HashMap<>();
            env.put("PATH", System.getenv().getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH));
            LaunchSpec spec = new LaunchSpec(id, sandbox, shell("head -c 268435456 /dev/zero | tail > /dev/null"),
                    env, new Limits(100, 64 * MB, 0), null, workDir.resolve(id.value() + ".status"), null);
            on(() -> {
                try {
                    return v2containerizer.launch(spec, (x, t) -> v2exits.add(t), x -> {});
                } catch (ContainerLaunchException e) {
                    throw new IllegalStateException(e);
                }
            });
            Termination t = v2exits.poll(Timeouts.PROCESS.toSeconds(), TimeUnit.SECONDS);
            assertThat(t).isNotNull();
            assertThat(t.oomKills()).isPositive();
        } finally {
            TestCgroups.remove(v2root);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static double cpuSeconds(UsageSample s) {
        return s.cpuUserSeconds() + s.cpuSystemSeconds();
    }

    /** The container's directory in the cpu controller's hierarchy (the unified one for v2). */
    private Path cpuDir(Container c) {
        String file = isolator.version() == CgroupsIsolator.Version.V2 ? "cpu.max" : "cpu.cfs_quota_us";
        return c.isolation().dirs().stream()
                .filter(d -> Files.exists(d.resolve(file)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + file + " in " + c.isolation().dirs()));
    }

    /** A cgroup file of {@code key value} lines, such as {@code cpu.stat}. */
    private static Map<String, Long> keyed(Path file) throws IOException {
        Map<String, Long> out = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2) {
                out.put(f[0], Long.parseLong(f[1]));
            }
        }
        return out;
    }

    private static boolean isDescendant(Container c, long pid) {
        return c.handle().descendants().anyMatch(h -> h.pid() == pid) || pid == c.pid();
    }

    private void awaitCleanedUp() {
        await().atMost(Timeouts.PROCESS).until(() -> {
            clock.advance(Duration.ofMillis(100));
            return !cleaned.isEmpty();
        });
        assertThat(cleaned.poll()).isTrue();
    }

    private Container launch(CommandInfo command, Limits limits) throws Exception {
        ContainerId id = ContainerId.of("container-" + runs.incrementAndGet());
        Path sandbox = workDir.resolve(id.value());
        Sandbox.create(sandbox);
        Map<String, String> env = new HashMap<>();
        env.put("PATH", System.getenv().getOrDefault("PATH", TaskEnvironment.DEFAULT_PATH));
        env.put(TaskEnvironment.CONTAINER_ID, id.value());
        LaunchSpec spec = new LaunchSpec(id, sandbox, command, env, limits, null,
                workDir.resolve(id.value() + ".status"), null);
        Object result = on(() -> {
            try {
                return containerizer.launch(spec, new Containerizer.Listener() {
                    @Override
                    public void exited(Container container, Termination termination) {
                        exits.add(termination);
                    }

                    @Override
                    public void cleanedUp(Container container, boolean clean) {
                        cleaned.add(clean);
                    }
                }, x -> {});
            } catch (ContainerLaunchException e) {
                return e;
            }
        });
        if (result instanceof ContainerLaunchException e) {
            throw e;
        }
        return (Container) result;
    }

    private Termination exit() throws InterruptedException {
        Termination t = exits.poll(Timeouts.PROCESS.toSeconds(), TimeUnit.SECONDS);
        assertThat(t).as("container exit within %s", Timeouts.PROCESS).isNotNull();
        return t;
    }

    private static CommandInfo shell(String command) {
        return CommandInfo.newBuilder().setShell(command).build();
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    private <T> T on(Supplier<T> call) throws Exception {
        return loop.call(call).get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run(Runnable call) throws Exception {
        on(() -> {
            call.run();
            return null;
        });
    }
}

package io.mezzo.agent.gc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.testkit.Loops;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sandbox removal on a manual clock, with a scripted file system fullness. */
class SandboxGcTest {

    private static final Duration DELAY = Duration.ofDays(7);

    @TempDir
    Path workDir;

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final EventLoop loop = new EventLoop("test-loop", clock, faults);
    private final ExecutorService workers = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() throws Exception {
        loop.close();
        workers.shutdownNow();
        assertThat(workers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        faults.assertNoFaults();
    }

    @Test
    void removesASandboxAfterTheDelayWithItsEmptyParents() throws Exception {
        SandboxGc gc = new SandboxGc(loop, workers, DELAY, 0.9, workDir, dir -> 0.5);
        Path first = run("f1", "t1", "c1");
        Path second = run("f1", "t2", "c2");
        on(() -> {
            gc.schedule(first, clock.millis());
            return null;
        });
        clock.advance(Duration.ofDays(1));
        on(() -> {
            gc.schedule(second, clock.millis());
            return null;
        });
        clock.advance(Duration.ofDays(6).minusSeconds(1));
        settle();
        assertThat(first).exists();
        clock.advance(Duration.ofSeconds(1));
        await().atMost(Timeouts.WAIT).until(() -> !Files.exists(first));
        assertThat(first.getParent().getParent()).as("the task's directory").doesNotExist();
        assertThat(second).exists();
        assertThat(workDir.resolve("agents/a1/frameworks/f1")).as("still holds t2").exists();
        clock.advance(Duration.ofDays(1));
        await().atMost(Timeouts.WAIT).until(() -> !Files.exists(second));
        assertThat(workDir.resolve("agents/a1/frameworks/f1")).doesNotExist();
    }

    @Test
    void aboveTheWatermarkRemovesTheOldestFirstUntilBelow() throws Exception {
        Path oldest = run("f1", "t1", "c1");
        Path middle = run("f1", "t2", "c2");
        Path newest = run("f1", "t3", "c3");
        // Each sandbox holds a tenth of the disk, which starts full.
        List<Path> all = List.of(oldest, middle, newest);
        SandboxGc gc = new SandboxGc(loop, workers, DELAY, 0.9, workDir,
                dir -> 0.75 + 0.1 * all.stream().filter(Files::exists).count());
        on(() -> {
            gc.schedule(oldest, clock.millis());
            gc.schedule(middle, clock.millis() + 1);
            gc.schedule(newest, clock.millis() + 2);
            gc.checkDisk();
            return null;
        });
        await().atMost(Timeouts.WAIT).until(() -> on(gc::size) == 1);
        assertThat(oldest).doesNotExist();
        assertThat(middle).doesNotExist();
        assertThat(newest).exists();
    }

    @Test
    void schedulesWhatAPreviousAgentLeftByItsAge() throws Exception {
        Path old = run("f1", "t1", "c1");
        Path live = run("f1", "t2", "c2");
        Files.setLastModifiedTime(old, FileTime.fromMillis(clock.millis() - Duration.ofDays(8).toMillis()));
        SandboxGc gc = new SandboxGc(loop, workers, DELAY, 0.9, workDir, dir -> 0.5);
        on(() -> {
            gc.scheduleExisting(Set.of(live));
            return null;
        });
        await().atMost(Timeouts.WAIT).until(() -> !Files.exists(old));
        assertThat(live).exists();
    }

    private Path run(String framework, String task, String container) throws Exception {
        return Files.createDirectories(workDir.resolve("agents/a1/frameworks").resolve(framework).resolve("tasks")
                .resolve(task).resolve("runs").resolve(container));
    }

    private void settle() {
        Loops.settle(loop::barrier);
    }

    private <T> T on(Supplier<T> call) throws Exception {
        return loop.call(call).get(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
}

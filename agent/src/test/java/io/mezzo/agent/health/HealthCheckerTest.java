package io.mezzo.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.HealthCheck;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The health check state machine on a manual clock, with scripted probe results: no threads, no network. */
class HealthCheckerTest {

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final EventLoop loop = new EventLoop("test-loop", clock, faults);
    private final Deque<CompletableFuture<HealthChecker.Result>> script = new ArrayDeque<>();
    private final List<String> events = new ArrayList<>();
    private int probes;

    @AfterEach
    void stop() {
        loop.close();
        faults.assertNoFaults();
    }

    @Test
    void reportsChangesOnlyAndKillsAfterTheThreshold() throws Exception {
        HealthChecker checker = checker(spec(1, 2, 5, 3, 0.001));
        script(true, true, false, false, true, false, false, false);
        start(checker);
        advance(1); // first check: healthy
        advance(2); // healthy again: no news
        advance(2); // unhealthy
        advance(2); // still unhealthy: no news
        advance(2); // healthy again
        advance(2);
        advance(2);
        advance(2); // third consecutive failure
        assertThat(events).containsExactly("healthy", "unhealthy", "healthy", "unhealthy", "failed 3");
        advance(10);
        assertThat(probes).isEqualTo(8);
    }

    @Test
    void failuresWithinTheGracePeriodAreNotCountedUntilTheFirstSuccess() throws Exception {
        HealthChecker checker = checker(spec(1, 1, 5, 1, 3));
        script(false, false, true, false);
        start(checker);
        advance(1); // t=1, in grace: ignored
        advance(1); // t=2, in grace: ignored
        advance(1); // t=3: healthy, grace over
        advance(1); // a failure now counts: threshold 1
        assertThat(events).containsExactly("healthy", "unhealthy", "failed 1");
    }

    @Test
    void aCheckWithoutAnswerTimesOutAsAFailure() throws Exception {
        HealthChecker checker = checker(spec(1, 10, 2, 1, 0.001));
        CompletableFuture<HealthChecker.Result> hanging = new CompletableFuture<>();
        script.add(hanging);
        start(checker);
        advance(1);
        assertThat(events).isEmpty();
        advance(2);
        assertThat(events).containsExactly("unhealthy", "failed 1");
        assertThat(hanging).isCancelled();
    }

    @Test
    void unsetFieldsTakeTheDocumentedDefaults() throws Exception {
        HealthChecker checker = checker(HealthCheck.newBuilder().setType(HealthCheck.Type.TCP).build());
        script(false, false, false, false);
        start(checker);
        advance(14);
        assertThat(probes).isZero();
        advance(1); // delay 15 s; within the 10 s grace period from start? no: 15 s > 10 s, counted
        advance(10);
        advance(10);
        assertThat(events).containsExactly("unhealthy", "failed 3");
    }

    private HealthChecker checker(HealthCheck spec) {
        return new HealthChecker(loop, "health/test", spec, () -> {
            probes++;
            CompletableFuture<HealthChecker.Result> next = script.poll();
            return next != null ? next : CompletableFuture.completedFuture(new HealthChecker.Result(false, "none"));
        }, new HealthChecker.Listener() {
            @Override
            public void healthChanged(boolean healthy, String detail) {
                events.add(healthy ? "healthy" : "unhealthy");
            }

            @Override
            public void failed(int failures, String detail) {
                events.add("failed " + failures);
            }
        });
    }

    private void script(boolean... results) {
        for (boolean r : results) {
            script.add(CompletableFuture.completedFuture(new HealthChecker.Result(r, r ? "ok" : "bad")));
        }
    }

    private void start(HealthChecker checker) throws Exception {
        loop.call(() -> {
            checker.start();
            return null;
        }).get(5, TimeUnit.SECONDS);
    }

    private void advance(double seconds) throws Exception {
        clock.advance(Duration.ofMillis(Math.round(seconds * 1000)));
        // The check's result comes back as an event of its own.
        loop.barrier().get(5, TimeUnit.SECONDS);
        loop.barrier().get(5, TimeUnit.SECONDS);
    }

    private static HealthCheck spec(double delay, double interval, double timeout, int failures, double grace) {
        return HealthCheck.newBuilder()
                .setType(HealthCheck.Type.TCP)
                .setDelaySeconds(delay)
                .setIntervalSeconds(interval)
                .setTimeoutSeconds(timeout)
                .setConsecutiveFailures(failures)
                .setGracePeriodSeconds(grace)
                .build();
    }
}

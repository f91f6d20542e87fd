package io.mezzo.common.loop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class EventLoopTest {

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final EventLoop loop = new EventLoop("test-loop", clock, faults);
    private final List<String> ran = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        loop.close();
    }

    private void settle() throws Exception {
        loop.barrier().get(5, TimeUnit.SECONDS);
    }

    @Test
    void runsEventsInAppendOrderOnTheLoopThread() throws Exception {
        for (int i = 0; i < 100; i++) {
            int n = i;
            loop.append(() -> ran.add(n + ":" + loop.inLoopThread()));
        }
        settle();
        assertThat(ran).hasSize(100);
        assertThat(ran.get(0)).isEqualTo("0:true");
        assertThat(ran.get(99)).isEqualTo("99:true");
        faults.assertNoFaults();
    }

    @Test
    void deferredEventFiresOnlyWhenTheClockPassesItsDeadline() throws Exception {
        loop.schedule("t", Duration.ofSeconds(10), () -> ran.add("fired"));
        clock.advance(Duration.ofSeconds(9));
        settle();
        assertThat(ran).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        settle();
        assertThat(ran).containsExactly("fired");
    }

    @Test
    void schedulingATagAgainReplacesThePendingEvent() throws Exception {
        loop.schedule("t", Duration.ofSeconds(1), () -> ran.add("first"));
        loop.schedule("t", Duration.ofSeconds(5), () -> ran.add("second"));
        settle();
        clock.advance(Duration.ofSeconds(2));
        settle();
        assertThat(ran).isEmpty();
        clock.advance(Duration.ofSeconds(3));
        settle();
        assertThat(ran).containsExactly("second");
    }

    @Test
    void cancelledEventNeverFires() throws Exception {
        loop.schedule("t", Duration.ofSeconds(1), () -> ran.add("fired"));
        loop.cancel("t");
        settle();
        clock.advance(Duration.ofSeconds(5));
        settle();
        assertThat(ran).isEmpty();
    }

    @Test
    void deferredEventsFireInDeadlineOrder() throws Exception {
        loop.schedule("b", Duration.ofSeconds(2), () -> ran.add("b"));
        loop.schedule("a", Duration.ofSeconds(1), () -> ran.add("a"));
        loop.schedule("c", Duration.ofSeconds(3), () -> ran.add("c"));
        settle();
        clock.advance(Duration.ofSeconds(3));
        settle();
        assertThat(ran).containsExactly("a", "b", "c");
    }

    @Test
    void idleEventsCoalesceAndRunAfterTheBurst() throws Exception {
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        loop.append(() -> {
            try {
                gate.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < 50; i++) {
            int n = i;
            loop.append(() -> {
                ran.add("event " + n);
                loop.whenIdle("cycle", () -> ran.add("cycle"));
            });
        }
        gate.countDown();
        settle();
        assertThat(ran).hasSize(51).endsWith("event 49", "cycle");
        assertThat(ran.stream().filter("cycle"::equals)).hasSize(1);
    }

    @Test
    void aThrowingEventIsReportedAndTheLoopGoesOn() throws Exception {
        loop.append(() -> {
            throw new IllegalStateException("boom");
        });
        loop.append(() -> ran.add("after"));
        settle();
        assertThat(ran).containsExactly("after");
        assertThat(faults.faults()).singleElement().asString().contains("boom");
    }

    @Test
    void mdcIsClearedBetweenEvents() throws Exception {
        loop.append(() -> MDC.put("agent", "agent-1"));
        loop.append(() -> ran.add(String.valueOf(MDC.get("agent"))));
        settle();
        assertThat(ran).containsExactly("null");
    }

    @Test
    void firesDeferredEventsOnTheRealClockToo() throws Exception {
        try (EventLoop real = new EventLoop("real", io.mezzo.common.clock.SystemClock.INSTANCE, faults)) {
            real.schedule("t", Duration.ofMillis(20), () -> ran.add("fired"));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ran.contains("fired"));
        }
    }

    @Test
    void callReturnsAValueComputedOnTheLoop() throws Exception {
        assertThat(loop.call(loop::inLoopThread).get(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void closeStopsTheThreadAndDropsLaterEvents() throws Exception {
        loop.close();
        loop.append(() -> ran.add("late"));
        assertThat(loop.barrier()).isCompletedExceptionally();
        assertThat(ran).isEmpty();
    }
}

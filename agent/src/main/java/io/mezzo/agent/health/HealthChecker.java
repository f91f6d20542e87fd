package io.mezzo.agent.health;

import io.mezzo.common.clock.Clock;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.HealthCheck;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one task's health check, with Mesos' semantics:
 *
 * <pre>
 *   start --delay--> check --interval--> check --interval--> ...
 *   each check: the probe runs off the loop; no answer within the timeout counts as a failure
 *   failures during the grace period (from start) are not counted; the first success ends it early
 *   health changes (first result, then every flip) -> Listener.healthChanged
 *   consecutive failures reach the threshold -> Listener.failed, and checking stops
 * </pre>
 *
 * <p>A field left at 0 takes the default the protocol documents (delay 15 s, interval 10 s, timeout 20 s,
 * 3 consecutive failures, grace period 10 s): proto3 cannot tell 0 from unset.
 *
 * <p>Thread: the agent's loop (probes complete on workers and append their result). Timers are loop
 * timers on the loop's clock, tagged {@code <tag>} and {@code <tag>/timeout}. Owner: the {@link
 * HealthMonitor}, one per running task with a health check.
 */
public final class HealthChecker {

    /** One check's outcome. {@code detail} says what was seen ("HTTP 503", "connection refused"). */
    public record Result(boolean healthy, String detail) {}

    /** Runs one check, off the loop. Cancelling the future abandons (and kills) a check that timed out. */
    @FunctionalInterface
    public interface Probe {
        /** Starts a check; must not block. */
        CompletableFuture<Result> run();
    }

    /** What the {@link HealthMonitor} hears. Called on the loop. */
    public interface Listener {
        /** The task became healthy or unhealthy (or got its first result). */
        void healthChanged(boolean healthy, String detail);

        /** The task failed {@code failures} consecutive checks, the threshold: kill it. */
        void failed(int failures, String detail);
    }

    static final double DEFAULT_DELAY = 15;
    static final double DEFAULT_INTERVAL = 10;
    static final double DEFAULT_TIMEOUT = 20;
    static final int DEFAULT_CONSECUTIVE_FAILURES = 3;
    static final double DEFAULT_GRACE_PERIOD = 10;

    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

    private final EventLoop loop;
    private final Clock clock;
    private final String tag;
    private final Probe probe;
    private final Listener listener;
    private final Duration delay;
    private final Duration interval;
    private final Duration timeout;
    private final int threshold;
    private final Duration grace;

    // Loop thread only.
    private long startedAt;
    private long sequence;
    private CompletableFuture<Result> inFlight;
    private int failures;
    private boolean graceOver;
    private Boolean healthy;
    private boolean stopped;

    /**
     * A checker for {@code spec}, whose timers are tagged with {@code tag} (unique per task).
     *
     * @param probe runs one check of {@code spec}'s kind
     */
    public HealthChecker(EventLoop loop, String tag, HealthCheck spec, Probe probe, Listener listener) {
        this.loop = loop;
        this.clock = loop.clock();
        this.tag = tag;
        this.probe = probe;
        this.listener = listener;
        this.delay = seconds(spec.getDelaySeconds(), DEFAULT_DELAY);
        this.interval = seconds(spec.getIntervalSeconds(), DEFAULT_INTERVAL);
        this.timeout = seconds(spec.getTimeoutSeconds(), DEFAULT_TIMEOUT);
        this.threshold = spec.getConsecutiveFailures() > 0 ? spec.getConsecutiveFailures() : DEFAULT_CONSECUTIVE_FAILURES;
        this.grace = seconds(spec.getGracePeriodSeconds(), DEFAULT_GRACE_PERIOD);
    }

    /** The timeout of one check (probes bound their own I/O by it too). */
    public static Duration timeoutOf(HealthCheck spec) {
        return seconds(spec.getTimeoutSeconds(), DEFAULT_TIMEOUT);
    }

    /** Starts checking: the first check after the delay. Loop thread. */
    public void start() {
        startedAt = clock.millis();
        loop.schedule(tag, delay, this::check);
    }

    /** Stops for good (the task is being killed or has ended). Loop thread. */
    public void stop() {
        stopped = true;
        loop.cancel(tag);
        loop.cancel(tag + "/timeout");
        if (inFlight != null) {
            inFlight.cancel(true);
            inFlight = null;
        }
    }

    /** The latest health, null before the first counted result. Loop thread. */
    public Boolean healthy() {
        return healthy;
    }

    private void check() {
        if (stopped) {
            return;
        }
        long seq = ++sequence;
        CompletableFuture<Result> result;
        try {
            result = probe.run();
        } catch (RuntimeException e) {
            result = CompletableFuture.completedFuture(new Result(false, "cannot run the check: " + e.getMessage()));
        }
        inFlight = result;
        loop.schedule(tag + "/timeout", timeout, () -> completed(seq,
                new Result(false, "no answer within " + timeout.toMillis() + " ms")));
        result.whenComplete((r, error) -> loop.append(() -> completed(seq, error == null ? r
                : new Result(false, "the check failed: " + error))));
    }

    private void completed(long seq, Result result) {
        if (stopped || seq != sequence || inFlight == null) {
            return;
        }
        CompletableFuture<Result> done = inFlight;
        inFlight = null;
        loop.cancel(tag + "/timeout");
        if (!done.isDone()) {
            // Timed out: abandon it (a command check is killed).
            done.cancel(true);
        }
        LOG.debug("Health check {}: {} ({})", tag, result.healthy() ? "healthy" : "unhealthy", result.detail());
        if (result.healthy()) {
            failures = 0;
            graceOver = true;
            if (!Boolean.TRUE.equals(healthy)) {
                healthy = true;
                listener.healthChanged(true, result.detail());
            }
        } else if (!graceOver && clock.millis() - startedAt < grace.toMillis()) {
            LOG.debug("Health check {} failed within its grace period: not counted", tag);
        } else {
            failures++;
            if (!Boolean.FALSE.equals(healthy)) {
                healthy = false;
                listener.healthChanged(false, result.detail());
            }
            if (failures >= threshold) {
                stop();
                listener.failed(failures, result.detail());
                return;
            }
        }
        loop.schedule(tag, interval, this::check);
    }

    private static Duration seconds(double value, double fallback) {
        double s = value > 0 && Double.isFinite(value) ? value : fallback;
        return Duration.ofNanos(Math.round(s * 1e9));
    }
}

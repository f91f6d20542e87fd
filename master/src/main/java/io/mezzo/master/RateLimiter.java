package io.mezzo.master;

import io.mezzo.common.clock.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Applies {@link RateLimits} to scheduler calls at the gRPC edge: a token bucket per listed
 * principal and one shared by the others, refilled from the injected clock. Which principal a call
 * is from: the principal the caller authenticated as (io.mezzo.master.auth), or else a pluggable
 * function of the caller's address ({@link #keyedBy}), by default the address's host.
 *
 * <p>Thread-safe: gRPC threads call {@link #acquire}; buckets exist only for configured limits, so
 * their number is bounded by the configuration, whatever the callers. Owner: {@link MasterCore},
 * which builds it from the configuration; used by {@link SchedulerService}.
 */
final class RateLimiter {

    private static final String AGGREGATE = "\0aggregate";

    private final RateLimits limits;
    private final Clock clock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private volatile Function<String, String> key = RateLimiter::host;

    RateLimiter(RateLimits limits, Clock clock) {
        this.limits = limits;
        this.clock = clock;
    }

    /** Uses {@code key} (caller address to principal) from now on: the hook for authenticated principals. */
    void keyedBy(Function<String, String> key) {
        this.key = key;
    }

    /** Null when the caller at {@code peer} may make one more call now, else the refusal's message. */
    String acquire(String peer) {
        return acquire(peer, null);
    }

    /**
     * As {@link #acquire(String)} for a caller that authenticated as {@code authenticated} (null when
     * anonymous): an authenticated principal is the key; an anonymous caller is keyed by its address.
     */
    String acquire(String peer, String authenticated) {
        if (limits.none()) {
            return null;
        }
        String principal = authenticated != null ? authenticated : key.apply(peer);
        RateLimits.Limit limit;
        String bucket;
        if (limits.limits().containsKey(principal)) {
            limit = limits.limits().get(principal);
            bucket = principal;
        } else {
            limit = limits.aggregateDefault();
            bucket = AGGREGATE;
        }
        if (limit == null) {
            return null;
        }
        RateLimits.Limit l = limit;
        if (buckets.computeIfAbsent(bucket, b -> new Bucket(l, clock.millis())).take(clock.millis())) {
            return null;
        }
        return "rate limit exceeded for " + (bucket.equals(AGGREGATE) ? "principal '" + principal
                + "' (under the aggregate default of " : "principal '" + principal + "' (")
                + limit.qps() + " calls/s, bursts of " + limit.capacity() + "); slow down and reconnect";
    }

    /** The host of "host:port" (the key until principals exist). */
    static String host(String peer) {
        int colon = peer.lastIndexOf(':');
        return colon > 0 ? peer.substring(0, colon) : peer;
    }

    private static final class Bucket {
        private final RateLimits.Limit limit;
        private double tokens;
        private long last;

        Bucket(RateLimits.Limit limit, long now) {
            this.limit = limit;
            this.tokens = limit.capacity();
            this.last = now;
        }

        synchronized boolean take(long now) {
            if (now > last) {
                tokens = Math.min(limit.capacity(), tokens + (now - last) * limit.qps() / 1000.0);
                last = now;
            }
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }
}

package io.mezzo.master;

import io.mezzo.common.clock.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Applies {@link RateLimits} to scheduler calls at the gRPC edge: a token bucket per listed
 * principal and one shared by the others, refilled from the injected clock. Which principal a call
 * is from: the principal the caller authenticated as (io.mezzo.master.auth), or else the host of
 * the caller's address.
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

    RateLimiter(RateLimits limits, Clock clock) {
        this.limits = limits;
        this.clock = clock;
    }

    /**
     * Null when the caller at {@code peer}, authenticated as {@code authenticated} (null when
     * anonymous), may make one more call now, else the refusal's message. An authenticated principal
     * is the key; an anonymous caller is keyed by its address's host.
     */
    String acquire(String peer, String authenticated) {
        if (limits.none()) {
            return null;
        }
        String principal = authenticated != null ? authenticated : host(peer);
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

    /** The host of "host:port" (the key of an anonymous caller). */
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

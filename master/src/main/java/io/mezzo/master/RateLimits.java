package io.mezzo.master;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --rate_limits}, with Mesos' semantics: per principal, the calls per second a scheduler may
 * make ({@code qps}) and how many it may make at once beyond that ({@code capacity}, the burst);
 * principals not listed share one aggregate default; a principal listed without {@code qps} is
 * unlimited, and so is everyone when nothing is configured. A call over the limit is refused with
 * RESOURCE_EXHAUSTED. Until principals are authenticated, the key is the caller's address
 * ({@link RateLimiter}).
 *
 * <pre>
 * {"limits": [{"principal": "10.0.0.5", "qps": 50, "capacity": 500}, {"principal": "ops"}],
 *  "aggregate_default_qps": 10, "aggregate_default_capacity": 100}
 * </pre>
 *
 * <p>Immutable; any thread.
 *
 * @param limits per principal; a null limit means unlimited
 * @param aggregateDefault shared by every principal not listed; null for unlimited
 */
public record RateLimits(Map<String, Limit> limits, Limit aggregateDefault) {

    /** No limits: the default. */
    public static final RateLimits NONE = new RateLimits(Map.of(), null);

    /**
     * One limit.
     *
     * @param qps calls per second, refilled continuously
     * @param capacity calls that may be made at once (the bucket's size); at least 1
     */
    public record Limit(double qps, long capacity) {
        /** Checks the numbers. */
        public Limit {
            if (!(qps > 0) || Double.isInfinite(qps)) {
                throw new IllegalArgumentException("qps must be a positive number, got " + qps);
            }
            if (capacity < 1) {
                throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
            }
        }
    }

    /** Copies the map. */
    public RateLimits {
        limits = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(limits));
    }

    /** True when nothing is limited. */
    public boolean none() {
        return aggregateDefault == null && limits.values().stream().allMatch(java.util.Objects::isNull);
    }

    /**
     * Parses the JSON form above.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static RateLimits parse(String json) {
        JsonObject root;
        try {
            root = JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--rate_limits is not a JSON object: " + e.getMessage(), e);
        }
        Map<String, Limit> limits = new LinkedHashMap<>();
        try {
            if (root.has("limits")) {
                for (JsonElement e : root.getAsJsonArray("limits")) {
                    JsonObject o = e.getAsJsonObject();
                    if (!o.has("principal") || o.get("principal").getAsString().isEmpty()) {
                        throw new IllegalArgumentException("--rate_limits: a limit has no principal");
                    }
                    String principal = o.get("principal").getAsString();
                    if (limits.containsKey(principal)) {
                        throw new IllegalArgumentException("--rate_limits lists principal '" + principal + "' twice");
                    }
                    limits.put(principal, o.has("qps") ? limit(o.get("qps").getAsDouble(), o.get("capacity")) : null);
                }
            }
            Limit aggregate = root.has("aggregate_default_qps")
                    ? limit(root.get("aggregate_default_qps").getAsDouble(), root.get("aggregate_default_capacity"))
                    : null;
            return new RateLimits(limits, aggregate);
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().startsWith("--rate_limits") ? e
                    : new IllegalArgumentException("--rate_limits: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--rate_limits: " + e.getMessage(), e);
        }
    }

    /** A limit whose capacity defaults to one second's worth of calls (at least 1). */
    private static Limit limit(double qps, JsonElement capacity) {
        return new Limit(qps, capacity == null ? Math.max(1, (long) Math.ceil(qps)) : capacity.getAsLong());
    }
}

package io.mezzo.master.validation;

import io.mezzo.proto.v1.Filters;
import java.time.Duration;

/** Pure checks and defaults of refusal filters (DECLINE, ACCEPT). Stateless; any thread. */
public final class FilterValidation {

    /** Refusal used when a DECLINE or ACCEPT gives none, as in Mesos. */
    public static final Duration DEFAULT_REFUSE = Duration.ofSeconds(5);

    /** The longest refusal accepted: one year. */
    public static final double MAX_REFUSE_SECONDS = 365.0 * 24 * 3600;

    private FilterValidation() {}

    /** Null when valid, else the reason. */
    public static String validate(Filters filters) {
        if (!filters.hasRefuseSeconds()) {
            return null;
        }
        double s = filters.getRefuseSeconds();
        if (Double.isNaN(s) || Double.isInfinite(s) || s < 0) {
            return "filters.refuse_seconds " + s + " is not a non-negative number";
        }
        if (s > MAX_REFUSE_SECONDS) {
            return "filters.refuse_seconds " + s + " is longer than one year";
        }
        return null;
    }

    /** The refusal duration a valid filter asks for. */
    public static Duration refuseDuration(Filters filters) {
        if (!filters.hasRefuseSeconds()) {
            return DEFAULT_REFUSE;
        }
        return Duration.ofNanos((long) (filters.getRefuseSeconds() * 1e9));
    }
}

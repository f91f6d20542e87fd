package io.mezzo.scheduler;

import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;

/**
 * An ERROR event from the master, as given to {@link Scheduler#error}.
 *
 * @param code what kind of error
 * @param message the master's human-readable detail
 * @param callType the call the master refused, or {@code UNKNOWN} when the error is not about one
 *     call
 */
public record SchedulerError(Event.Error.Code code, String message, Call.Type callType) {

    /** Converts the protocol form. */
    public static SchedulerError of(Event.Error error) {
        Event.Error.Code code = error.getCode() == Event.Error.Code.UNRECOGNIZED
                ? Event.Error.Code.CODE_UNSPECIFIED
                : error.getCode();
        Call.Type callType = error.getCallType() == Call.Type.UNRECOGNIZED ? Call.Type.UNKNOWN : error.getCallType();
        return new SchedulerError(code, error.getMessage(), callType);
    }

    /**
     * True when the client has stopped for good because of this error: the framework was removed
     * ({@code FRAMEWORK_REMOVED}), another connection took it over ({@code
     * FRAMEWORK_FAILED_OVER}), or the master refused the SUBSCRIBE call itself (for example an
     * invalid {@code FrameworkInfo}), which no retry would fix.
     */
    public boolean fatal() {
        return code == Event.Error.Code.FRAMEWORK_REMOVED
                || code == Event.Error.Code.FRAMEWORK_FAILED_OVER
                || callType == Call.Type.SUBSCRIBE;
    }

    @Override
    public String toString() {
        return code + (callType == Call.Type.UNKNOWN ? "" : " on " + callType) + ": " + message;
    }
}

package io.mezzo.dist.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The exit codes every operator command ({@code mezzo agents}, {@code mezzo quota set}, ...)
 * ends with, and the help footer that lists them. One meaning per code across the commands. Pure.
 */
final class ExitCodes {

    /** Done. */
    static final int OK = 0;
    /** The master refused the call, or the object does not exist; the reason is on stderr. */
    static final int REFUSED = 1;
    /** Bad flags or arguments (picocli's own code for usage errors). */
    static final int USAGE = 2;
    /** No leading master answered, or the connection to it broke (transport error). */
    static final int NO_LEADER = 3;

    /** The help footer of every operator command. */
    static final String[] FOOTER = {"", "Exit codes:",
        "  0  done",
        "  1  the master refused, or the object does not exist (the reason on stderr)",
        "  2  bad usage: an unknown flag, a malformed value",
        "  3  no leading master reachable, or the connection failed"};

    private ExitCodes() {}

    /** The failure a call that ended with {@code e} stands for: NO_LEADER for transport trouble, else REFUSED. */
    static CliFailure of(StatusRuntimeException e) {
        Status s = e.getStatus();
        String what = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
        return switch (s.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, UNKNOWN, INTERNAL, ABORTED ->
                    new CliFailure(NO_LEADER, "the leading master did not answer: " + s.getCode() + " " + what);
            case NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT, ALREADY_EXISTS, OUT_OF_RANGE ->
                    new CliFailure(REFUSED, what);
            default -> new CliFailure(REFUSED, s.getCode() + ": " + what);
        };
    }
}

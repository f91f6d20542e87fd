package io.mezzo.services;

/**
 * A request the service scheduler refuses: an HTTP status, a short error code and a message that says
 * what was wrong. Thrown on the manager's loop; the HTTP edge turns it into {@code {"error","message"}}.
 */
public final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String error;

    /** With the HTTP status, the error code and the message. */
    public ApiException(int status, String error, String message) {
        super(message);
        this.status = status;
        this.error = error;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The error code: {@code invalid_definition}, {@code not_found}, {@code conflict}, ... */
    public String error() {
        return error;
    }

    static ApiException notFound(String id) {
        return new ApiException(404, "not_found", "no service '" + id + "'");
    }

    static ApiException conflict(String message) {
        return new ApiException(409, "conflict", message);
    }
}

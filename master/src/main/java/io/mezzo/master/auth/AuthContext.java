package io.mezzo.master.auth;

import io.grpc.Context;

/**
 * The authenticated principal of the current gRPC call, set by {@link AuthInterceptor}: absent
 * (null) for an anonymous caller. Public for other edge code that keys on the caller (per-principal
 * rate limits): {@code AuthContext.PRINCIPAL.get()} on the call's thread, or captured into the
 * stream's state when the stream starts.
 */
public final class AuthContext {

    /** The principal; null when the caller is anonymous. */
    public static final Context.Key<String> PRINCIPAL = Context.key("mezzo-principal");

    private AuthContext() {}

    /** The current call's principal, or null. */
    public static String principal() {
        return PRINCIPAL.get();
    }

    /** {@code principal} for log lines and messages: the name, or "anonymous". */
    public static String describe(String principal) {
        return principal == null || principal.isEmpty() ? "anonymous" : "principal '" + principal + "'";
    }
}

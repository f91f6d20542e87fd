package io.mezzo.master.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.mezzo.common.security.BasicAuth;
import java.util.Set;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC edge of authentication for one service: authenticates every call ({@link
 * Authenticator}), refuses it UNAUTHENTICATED when its credentials are wrong, or when {@code
 * required} and the caller is anonymous, and otherwise runs it with {@link AuthContext#PRINCIPAL}
 * set. Methods in {@code open} (e.g. GetHealth, so that tools can find the leader) are let in
 * anonymously even when authentication is required, but a wrong credential is still refused.
 *
 * <p>Owner: the master's server builder. Runs on gRPC threads; immutable. Each refusal is logged
 * once at WARN with the peer, the method and the reason (never a secret).
 */
public final class AuthInterceptor implements ServerInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(AuthInterceptor.class);

    private final Authenticator authenticator;
    private final boolean required;
    private final String what;
    private final Set<String> open;

    /**
     * @param what who calls this service, for messages ("frameworks", "agents", "operators")
     * @param required whether anonymous callers are refused ({@code --authenticate_<what>})
     * @param open full method names let in anonymously anyway
     */
    public AuthInterceptor(Authenticator authenticator, String what, boolean required, Set<String> open) {
        this.authenticator = authenticator;
        this.what = what;
        this.required = required;
        this.open = Set.copyOf(open);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        SSLSession tls = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        Authenticator.Result result = authenticator.authenticate(headers.get(BasicAuth.AUTHORIZATION), tls);
        String method = call.getMethodDescriptor().getFullMethodName();
        String error = result.error();
        if (error == null && result.principal() == null && required && !open.contains(method)) {
            error = "authentication of " + what + " is required (--authenticate_" + what
                    + "): present a client certificate signed by the cluster CA or credentials";
        }
        if (error != null) {
            LOG.warn("Refused {} from {}: unauthenticated: {}", method, call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
                    error);
            call.close(Status.UNAUTHENTICATED.withDescription(error), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        Context ctx = Context.current().withValue(AuthContext.PRINCIPAL, result.principal());
        return Contexts.interceptCall(ctx, call, headers, next);
    }
}

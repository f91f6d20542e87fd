package io.mezzo.master;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Puts the caller's address into the gRPC context, so log lines can say who connected. Part of
 * the gRPC edge; owner: {@link Master}. Runs on gRPC threads; stateless.
 */
final class PeerInterceptor implements ServerInterceptor {

    static final Context.Key<String> PEER = Context.key("mezzo-peer");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String peer = remote instanceof InetSocketAddress inet
                ? inet.getAddress().getHostAddress() + ":" + inet.getPort()
                : String.valueOf(remote);
        return Contexts.interceptCall(Context.current().withValue(PEER, peer), call, headers, next);
    }

    static String peer() {
        String peer = PEER.get();
        return peer == null ? "unknown" : peer;
    }
}

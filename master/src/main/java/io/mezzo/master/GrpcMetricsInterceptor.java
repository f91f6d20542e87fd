package io.mezzo.master;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Counts every gRPC call the master serves by service, method and status code ({@code
 * mezzo_master_grpc_calls_total}). Only methods the server has registered reach an interceptor, so
 * the labels stay within our own services' methods times the 17 status codes. Owner: {@link
 * Master}. Thread: gRPC threads.
 */
final class GrpcMetricsInterceptor implements ServerInterceptor {

    private final MasterMetrics metrics;

    GrpcMetricsInterceptor(MasterMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String service = call.getMethodDescriptor().getServiceName();
        String method = call.getMethodDescriptor().getBareMethodName();
        metrics.grpcCallStarted(service, method);
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                metrics.grpcCall(service, method, status.getCode().name());
                super.close(status, trailers);
            }
        }, headers);
    }
}

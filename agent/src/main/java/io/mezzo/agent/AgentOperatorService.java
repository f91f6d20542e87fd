package io.mezzo.agent;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AgentOperatorGrpc;
import io.mezzo.proto.v1.GetAgentStateRequest;
import io.mezzo.proto.v1.GetAgentStateResponse;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The agent's operator API: {@code GetAgentState}, read on the agent's loop and answered from the
 * future's completion.
 *
 * <p>Thread: gRPC server threads; it only asks the loop. Owner: {@link Agent}.
 */
final class AgentOperatorService extends AgentOperatorGrpc.AgentOperatorImplBase {

    private final Supplier<CompletableFuture<GetAgentStateResponse>> state;

    AgentOperatorService(Supplier<CompletableFuture<GetAgentStateResponse>> state) {
        this.state = state;
    }

    @Override
    public void getAgentState(GetAgentStateRequest request, StreamObserver<GetAgentStateResponse> response) {
        state.get().whenComplete((value, error) -> {
            if (error != null) {
                response.onError(Status.UNAVAILABLE
                        .withDescription("agent is stopping: " + error.getMessage())
                        .asRuntimeException());
            } else {
                response.onNext(value);
                response.onCompleted();
            }
        });
    }
}

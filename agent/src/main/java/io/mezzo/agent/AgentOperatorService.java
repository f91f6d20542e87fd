package io.mezzo.agent;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AgentOperatorGrpc;
import io.mezzo.proto.v1.GetAgentStateRequest;
import io.mezzo.proto.v1.GetAgentStateResponse;
import io.mezzo.proto.v1.GetContainersRequest;
import io.mezzo.proto.v1.GetContainersResponse;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The agent's operator API: {@code GetAgentState} (read on the agent's loop) and {@code GetContainers}
 * (the running containers listed on the loop, their usage sampled on a worker), each answered from the
 * future's completion.
 *
 * <p>Thread: gRPC server threads; it only asks the agent. Owner: {@link Agent}.
 */
final class AgentOperatorService extends AgentOperatorGrpc.AgentOperatorImplBase {

    private final Supplier<CompletableFuture<GetAgentStateResponse>> state;
    private final Supplier<CompletableFuture<GetContainersResponse>> containers;

    AgentOperatorService(
            Supplier<CompletableFuture<GetAgentStateResponse>> state,
            Supplier<CompletableFuture<GetContainersResponse>> containers) {
        this.state = state;
        this.containers = containers;
    }

    @Override
    public void getAgentState(GetAgentStateRequest request, StreamObserver<GetAgentStateResponse> response) {
        answer(state.get(), response);
    }

    @Override
    public void getContainers(GetContainersRequest request, StreamObserver<GetContainersResponse> response) {
        answer(containers.get(), response);
    }

    private static <T> void answer(CompletableFuture<T> future, StreamObserver<T> response) {
        future.whenComplete((value, error) -> {
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

package io.mezzo.master;

import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.GetTasksRequest;
import io.mezzo.proto.v1.GetTasksResponse;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskState;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The master's state as the loop last published it: what {@code /state}, {@code /agents},
 * {@code /frameworks}, {@code /tasks}, their gRPC equivalents and the gauges of {@link
 * MasterMetrics} read, so that polling them never runs on the event loop. Immutable (protobuf
 * messages and unmodifiable maps); any thread may read it.
 *
 * @param state everything, as GetState answers it
 * @param roles the roles, as GetRoles answers it
 * @param leading whether this master led and acted when the snapshot was taken
 * @param takenAtMillis when it was taken, on the master's clock
 * @param agentsByState agents by state
 * @param frameworksByState frameworks by state
 * @param tasksByState live (not completed) tasks by state
 * @param electedToAgentsBackSeconds from the election until no recovered agent was left; NaN until then
 * @param nowMillis the clock the age is read with (the master's)
 */
record StateSnapshot(
        GetStateResponse state,
        GetRolesResponse roles,
        boolean leading,
        long takenAtMillis,
        Map<AgentView.State, Integer> agentsByState,
        Map<FrameworkView.State, Integer> frameworksByState,
        Map<TaskState, Integer> tasksByState,
        double electedToAgentsBackSeconds,
        java.util.function.LongSupplier nowMillis) {

    /** Before the first publication: nothing known. */
    static final StateSnapshot EMPTY = new StateSnapshot(GetStateResponse.getDefaultInstance(),
            GetRolesResponse.getDefaultInstance(), false, 0, Map.of(), Map.of(), Map.of(), Double.NaN,
            () -> 0);

    /** Counts the states of {@code state}'s agents, frameworks and tasks once, for the gauges. */
    static StateSnapshot of(GetStateResponse state, GetRolesResponse roles, boolean leading, long takenAtMillis,
            double agentsBack, java.util.function.LongSupplier nowMillis) {
        Map<AgentView.State, Integer> agents = new EnumMap<>(AgentView.State.class);
        state.getAgentsList().forEach(a -> agents.merge(a.getState(), 1, Integer::sum));
        Map<FrameworkView.State, Integer> frameworks = new EnumMap<>(FrameworkView.State.class);
        state.getFrameworksList().forEach(f -> frameworks.merge(f.getState(), 1, Integer::sum));
        Map<TaskState, Integer> tasks = new EnumMap<>(TaskState.class);
        for (Task t : state.getTasksList()) {
            tasks.merge(t.getState(), 1, Integer::sum);
        }
        return new StateSnapshot(state, roles, leading, takenAtMillis, Collections.unmodifiableMap(agents),
                Collections.unmodifiableMap(frameworks), Collections.unmodifiableMap(tasks), agentsBack,
                nowMillis);
    }

    int agentsIn(AgentView.State s) {
        return agentsByState.getOrDefault(s, 0);
    }

    int frameworksIn(FrameworkView.State s) {
        return frameworksByState.getOrDefault(s, 0);
    }

    /**
     * The tasks {@code request} asks for: filtered by framework, agent and state, then paged
     * ({@code offset}, {@code limit}) over the live tasks followed by the completed ones.
     */
    GetTasksResponse tasks(GetTasksRequest request) {
        String framework = request.getFrameworkId().getValue();
        String agent = request.getAgentId().getValue();
        TaskState state = request.getState();
        java.util.function.Predicate<Task> match = t -> (framework.isEmpty() || framework.equals(t.getFrameworkId().getValue()))
                && (agent.isEmpty() || agent.equals(t.getAgentId().getValue()))
                && (state == TaskState.TASK_STATE_UNSPECIFIED || state == t.getState());
        int skip = Math.max(0, request.getOffset());
        int left = request.getLimit() <= 0 ? Integer.MAX_VALUE : request.getLimit();
        GetTasksResponse.Builder b = GetTasksResponse.newBuilder();
        for (Task t : this.state.getTasksList()) {
            if (left > 0 && match.test(t)) {
                if (skip > 0) {
                    skip--;
                } else {
                    b.addTasks(t);
                    left--;
                }
            }
        }
        for (Task t : this.state.getCompletedTasksList()) {
            if (left > 0 && match.test(t)) {
                if (skip > 0) {
                    skip--;
                } else {
                    b.addCompletedTasks(t);
                    left--;
                }
            }
        }
        return b.build();
    }

    double ageSeconds() {
        return takenAtMillis == 0 ? Double.NaN : Math.max(0, nowMillis.getAsLong() - takenAtMillis) / 1000.0;
    }
}

package io.mezzo.master.auth;

import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.Task;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What one operator may see ({@code view_frameworks}, {@code view_agents}): views are filtered, not
 * refused, so an operator with a narrow grant sees their own frameworks, their tasks and offers,
 * and the agents they may see. Cluster totals are not filtered. With no ACL file nothing is
 * filtered. Immutable; any thread (applied by the edges to views the loop computed).
 */
public final class ViewFilter {

    private final Acls acls;
    private final String principal;

    /** The filter for {@code principal} (null for anonymous). */
    public ViewFilter(Acls acls, String principal) {
        this.acls = acls;
        this.principal = principal;
    }

    private boolean none() {
        return acls.isPermissiveDefault();
    }

    /** Whether this filter leaves every view whole (no ACLs): cached renderings may be shared. */
    public boolean passesAll() {
        return none();
    }

    /** The frameworks the principal may see. */
    public List<FrameworkView> frameworks(List<FrameworkView> all) {
        if (none()) {
            return all;
        }
        return all.stream().filter(f -> acls.allows(Action.VIEW_FRAMEWORKS, principal, f.getFrameworkInfo().getPrincipal()))
                .toList();
    }

    /** The agents the principal may see. */
    public List<AgentView> agents(List<AgentView> all) {
        if (none()) {
            return all;
        }
        return all.stream().filter(a -> acls.allows(Action.VIEW_AGENTS, principal, a.getAgentInfo().getHostname())).toList();
    }

    /** The tasks of frameworks the principal may see; {@code frameworks} are all frameworks' views. */
    public List<Task> tasks(List<Task> all, List<FrameworkView> frameworks) {
        if (none()) {
            return all;
        }
        Set<String> visible = visibleIds(frameworks);
        return all.stream().filter(t -> visible.contains(t.getFrameworkId().getValue())).toList();
    }

    /** The state with what the principal may not see left out. */
    public GetStateResponse state(GetStateResponse state) {
        if (none()) {
            return state;
        }
        Set<String> visible = visibleIds(state.getFrameworksList());
        List<Offer> offers = state.getOffersList().stream()
                .filter(o -> visible.contains(o.getFrameworkId().getValue())).toList();
        return state.toBuilder()
                .clearAgents().addAllAgents(agents(state.getAgentsList()))
                .clearFrameworks().addAllFrameworks(frameworks(state.getFrameworksList()))
                .clearTasks().addAllTasks(state.getTasksList().stream()
                        .filter(t -> visible.contains(t.getFrameworkId().getValue())).toList())
                .clearCompletedTasks().addAllCompletedTasks(state.getCompletedTasksList().stream()
                        .filter(t -> visible.contains(t.getFrameworkId().getValue())).toList())
                .clearOffers().addAllOffers(offers)
                .build();
    }

    private Set<String> visibleIds(List<FrameworkView> frameworks) {
        return new HashSet<>(frameworks(frameworks).stream().map(f -> f.getFrameworkInfo().getId().getValue())
                .collect(Collectors.toSet()));
    }

    /** Framework id to principal, for callers that hold only tasks. */
    static Map<String, String> principals(List<FrameworkView> frameworks) {
        return frameworks.stream().collect(Collectors.toMap(f -> f.getFrameworkInfo().getId().getValue(),
                f -> f.getFrameworkInfo().getPrincipal(), (a, b) -> a));
    }
}

package io.mezzo.master.allocator;

import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * One framework in one of its roles: the leaf DRF sorts within a role's {@link OwnLeaf} and what
 * offers are made to. The algorithm's docs (and Mesos's sorter) call it a <em>client</em>; a
 * MULTI_ROLE framework has one per role, each with its own share, filters and suppression. Active
 * when the framework is connected, subscribed to the role and has not suppressed it.
 *
 * <p>Owner: its {@link FrameworkEntry}. Thread: the master's event loop.
 */
final class FrameworkRoleNode extends SortNode {

    final FrameworkEntry framework;
    final RoleNode role;
    boolean active;
    /** Agents holding a DECLINE filter of this client, so that REVIVE can clear them. */
    final Set<AgentNode> refusedOn = new HashSet<>();

    FrameworkRoleNode(FrameworkEntry framework, RoleNode role, int width) {
        super(framework.id.value(), width);
        this.framework = framework;
        this.role = role;
    }

    /** Drops this client's DECLINE filters on every agent (REVIVE, disconnection, removal). */
    void clearRefusals() {
        for (AgentNode a : refusedOn) {
            a.removeRefusal(this);
        }
        refusedOn.clear();
    }

    @Override
    double weight() {
        return 1.0;
    }

    @Override
    TreeSet<SortNode> container() {
        return role.own.active;
    }

    @Override
    public String toString() {
        return framework.id.value() + "/" + role.path;
    }
}

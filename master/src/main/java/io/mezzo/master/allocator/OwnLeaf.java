package io.mezzo.master.allocator;

import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The frameworks subscribed to one role itself, sorted among that role's child roles (Mesos calls
 * it the virtual leaf): in role {@code eng}, the frameworks of {@code eng} compete as one entry
 * against the subtree {@code eng/web}. Its name, {@code <role>/.}, cannot be a role's name.
 *
 * <p>Owner: its {@link RoleNode}. Thread: the master's event loop.
 */
final class OwnLeaf extends SortNode {

    final RoleNode role;
    /** Active clients in DRF order. */
    final TreeSet<SortNode> active = new TreeSet<>(ORDER);
    /** Every client of the role, active or not, by framework id. */
    final TreeMap<String, FrameworkRoleNode> clients = new TreeMap<>();

    OwnLeaf(RoleNode role, int width) {
        super(role.path + "/.", width);
        this.role = role;
    }

    @Override
    double weight() {
        return role.weight;
    }

    @Override
    TreeSet<SortNode> container() {
        return role.active;
    }

    @Override
    void grow(int width) {
        super.grow(width);
        clients.values().forEach(c -> c.grow(width));
    }
}

package io.mezzo.master.allocator;

import io.mezzo.common.id.FrameworkId;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * A framework as the allocator keeps it: whether it is connected, its roles, the roles it
 * suppressed, and one client ({@link FrameworkRoleNode}) per role it is subscribed to or still
 * holds resources in. Its state changes here; {@link DrfSorter#sync} then brings its clients'
 * activity in line.
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop.
 */
final class FrameworkEntry {

    final FrameworkId id;
    boolean connected;
    Set<String> roles = new LinkedHashSet<>();
    final Set<String> suppressed = new HashSet<>();
    final TreeMap<String, FrameworkRoleNode> clients = new TreeMap<>();
    /** Removed from the allocator: its clients are being dropped and are never kept again. */
    boolean removed;

    FrameworkEntry(FrameworkId id) {
        this.id = id;
    }

    /** New roles and connection; a disconnection drops every DECLINE filter (see the allocator). */
    void update(Collection<String> newRoles, boolean nowConnected) {
        if (connected && !nowConnected) {
            // A scheduler that comes back is a new instance: it does not remember what it declined.
            clients.values().forEach(FrameworkRoleNode::clearRefusals);
        }
        connected = nowConnected;
        roles = new LinkedHashSet<>(newRoles);
        suppressed.retainAll(roles);
    }

    /** Suppresses these roles (empty: all of its roles). */
    void suppress(Collection<String> which) {
        suppressed.addAll(which.isEmpty() ? roles : which);
        suppressed.retainAll(roles);
    }

    /** Revives these roles (empty: all of its roles) and drops their DECLINE filters. */
    void revive(Collection<String> which) {
        Collection<String> all = which.isEmpty() ? roles : which;
        suppressed.removeAll(all);
        for (String role : all) {
            FrameworkRoleNode c = clients.get(role);
            if (c != null) {
                c.clearRefusals();
            }
        }
    }

    /** Whether the client of {@code role} should be offered resources. */
    boolean wants(String role) {
        return connected && roles.contains(role) && !suppressed.contains(role);
    }
}

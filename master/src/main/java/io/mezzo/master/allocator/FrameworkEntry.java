package io.mezzo.master.allocator;

import io.mezzo.common.id.FrameworkId;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * A framework as the allocator keeps it: whether it is connected, its roles, the roles it
 * suppressed, and one {@link FrameworkRoleNode} per role it is subscribed to or still holds resources in.
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop.
 */
final class FrameworkEntry {

    final FrameworkId id;
    boolean connected;
    Set<String> roles = new LinkedHashSet<>();
    final Set<String> suppressed = new HashSet<>();
    final TreeMap<String, FrameworkRoleNode> clients = new TreeMap<>();

    FrameworkEntry(FrameworkId id) {
        this.id = id;
    }

    /** Whether the client of {@code role} should be offered resources. */
    boolean wants(String role) {
        return connected && roles.contains(role) && !suppressed.contains(role);
    }
}

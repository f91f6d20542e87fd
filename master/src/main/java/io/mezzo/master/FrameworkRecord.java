package io.mezzo.master;

import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.resources.Roles;
import io.mezzo.proto.v1.FrameworkInfo;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The master's view of one framework. Owned by the {@link FrameworkManager} (which alone changes
 * its lifecycle; {@link TaskLifecycle} and {@link OfferManager} keep {@code tasks}, {@code used},
 * {@code offers}, {@code offered} and {@code suppressedRoles}); touched only on the master's event
 * loop.
 *
 * <p>Hard state (in {@code registry/frameworks/<id>}): {@code id}, {@code info} (with its failover
 * timeout), {@code registeredAt}, {@code disconnectedAt}, and removal (a tombstone). Soft state:
 * {@code connection}, {@code offers}, {@code offered} and {@code suppressedRoles} are made again
 * when the scheduler resubscribes (DECLINE filters live in the allocator); {@code tasks} and
 * {@code used} are rebuilt from the agents; {@code removing} is the write in flight.
 *
 * <p>Invariants:
 *
 * <ol>
 *   <li>{@code connection != null} exactly in state CONNECTED.
 *   <li>{@code offers} are outstanding offers to this framework, and {@code offered} their sum per
 *       role.
 *   <li>{@code used} per role is the sum of the resources of its non-terminal tasks.
 * </ol>
 */
final class FrameworkRecord {

    /** Lifecycle of a framework in the master. */
    enum State {
        /** Its scheduler is subscribed on an open stream. */
        CONNECTED,
        /** Its scheduler went away; the failover timeout runs. */
        DISCONNECTED,
        /** Known only from agents (after a master failover); waiting for its scheduler. */
        RECOVERED,
        /** Torn down or timed out. */
        REMOVED;

        Set<State> next() {
            return switch (this) {
                case CONNECTED -> EnumSet.of(CONNECTED, DISCONNECTED, REMOVED);
                case DISCONNECTED, RECOVERED -> EnumSet.of(CONNECTED, REMOVED);
                case REMOVED -> EnumSet.noneOf(State.class);
            };
        }
    }

    final FrameworkId id;
    FrameworkInfo info;
    State state;
    SchedulerConnection connection;
    /** Roles offers are suppressed for. */
    final Set<String> suppressedRoles = new HashSet<>();
    /** Outstanding offers. */
    final Set<OfferId> offers = new LinkedHashSet<>();
    /** Scalar resources in outstanding offers, per role. */
    final Map<String, Resources> offered = new HashMap<>();
    /** Scalar resources of non-terminal tasks, per role. */
    final Map<String, Resources> used = new HashMap<>();
    /** Tasks until their terminal update is acknowledged. */
    final Map<TaskId, TaskRecord> tasks = new LinkedHashMap<>();

    long registeredAt;
    /** When its scheduler disconnected (this or an earlier leader's view); 0 while connected. */
    long disconnectedAt;
    /**
     * Its removal is being made durable (set when the tombstone write is issued, never cleared):
     * from then on nothing writes it as active again ({@link FrameworkManager} invariant 5).
     */
    boolean removing;

    FrameworkRecord(FrameworkId id, FrameworkInfo info, State state) {
        this.id = id;
        this.info = info;
        this.state = state;
    }

    /** The framework's roles; "*" when it named none. */
    List<String> roles() {
        return info.getRolesCount() == 0 ? List.of(Roles.DEFAULT) : info.getRolesList();
    }

    boolean hasCapability(FrameworkInfo.Capability.Type type) {
        return info.getCapabilitiesList().stream().anyMatch(c -> c.getType() == type);
    }

    boolean partitionAware() {
        return hasCapability(FrameworkInfo.Capability.Type.PARTITION_AWARE);
    }

    // Sums over several agents keep scalars only: ports [31000-32000] on two agents are two
    // resources, but as a set they would be one. DRF only needs the scalars.

    void addOffered(String role, Resources r) {
        offered.merge(role, r.scalarsOnly(), Resources::plus);
    }

    void removeOffered(String role, Resources r) {
        Resources left = offered.getOrDefault(role, Resources.EMPTY).minus(r.scalarsOnly());
        if (left.isEmpty()) {
            offered.remove(role);
        } else {
            offered.put(role, left);
        }
    }

    void addUsed(String role, Resources r) {
        used.merge(role, r.scalarsOnly(), Resources::plus);
    }

    void removeUsed(String role, Resources r) {
        Resources left = used.getOrDefault(role, Resources.EMPTY).minus(r.scalarsOnly());
        if (left.isEmpty()) {
            used.remove(role);
        } else {
            used.put(role, left);
        }
    }

    /** Used plus offered in one role: what DRF counts. */
    Resources allocated(String role) {
        return used.getOrDefault(role, Resources.EMPTY).plus(offered.getOrDefault(role, Resources.EMPTY));
    }

    Resources totalUsed() {
        Resources sum = Resources.EMPTY;
        for (Resources r : used.values()) {
            sum = sum.plus(r);
        }
        return sum;
    }

    Resources totalOffered() {
        Resources sum = Resources.EMPTY;
        for (Resources r : offered.values()) {
            sum = sum.plus(r);
        }
        return sum;
    }

    @Override
    public String toString() {
        return id + " (" + info.getName() + ") " + state;
    }
}

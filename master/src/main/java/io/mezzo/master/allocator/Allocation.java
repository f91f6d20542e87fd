package io.mezzo.master.allocator;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.Resources;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One decision of an allocation cycle: offer {@link #resources()} on {@link #agent()} to a
 * framework for one of its roles. Made by {@link DrfAllocator#allocate}; the resources are held by
 * the framework from then on, until the master gives them back with {@link DrfAllocator#recover}.
 *
 * <p>The {@link Resources} bag is built on first use, so that a cycle itself never touches the
 * general-purpose resource type. Equal when framework, role, agent and resources are equal (tests
 * compare allocations as values). Thread: the master's event loop.
 */
public final class Allocation {

    private final FrameworkId framework;
    private final String role;
    private final AgentId agent;
    private final ScalarNames names;
    /** At most one piece per pool. */
    final List<Piece> pieces;
    private Resources resources;

    Allocation(FrameworkId framework, String role, AgentId agent, ScalarNames names) {
        this.framework = framework;
        this.role = role;
        this.agent = agent;
        this.names = names;
        this.pieces = new ArrayList<>(1);
    }

    private Allocation(FrameworkId framework, String role, AgentId agent, Resources resources) {
        this.framework = framework;
        this.role = role;
        this.agent = agent;
        this.names = null;
        this.pieces = List.of();
        this.resources = resources;
    }

    /** An expected allocation, for tests and replays. */
    public static Allocation of(FrameworkId framework, String role, AgentId agent, Resources resources) {
        return new Allocation(framework, role, agent, resources);
    }

    public FrameworkId framework() {
        return framework;
    }

    /** The role the offer is made for (its {@code allocation_info.role}). */
    public String role() {
        return role;
    }

    public AgentId agent() {
        return agent;
    }

    /** The offered resources, with their reservations. */
    public Resources resources() {
        if (resources == null) {
            Resources.Builder b = Resources.builder();
            for (Piece piece : pieces) {
                long[] s = piece.scalars();
                for (int i = 0; i < s.length; i++) {
                    if (s[i] > 0) {
                        b.scalar(names.name(i), piece.pool().reservation, s[i]);
                    }
                }
                b.add(piece.other());
            }
            resources = b.build();
        }
        return resources;
    }

    /** Adds a piece, merging it with this allocation's piece of the same pool. */
    void add(Piece piece, int width) {
        for (int i = 0; i < pieces.size(); i++) {
            Piece old = pieces.get(i);
            if (old.pool() == piece.pool()) {
                long[] sum = new long[width];
                for (int r = 0; r < width; r++) {
                    sum[r] = Vectors.at(old.scalars(), r) + Vectors.at(piece.scalars(), r);
                }
                pieces.set(i, new Piece(piece.pool(), sum, old.other().plus(piece.other())));
                return;
            }
        }
        pieces.add(piece);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Allocation a && framework.equals(a.framework) && role.equals(a.role) && agent.equals(a.agent)
                && resources().equals(a.resources());
    }

    @Override
    public int hashCode() {
        return Objects.hash(framework, role, agent, resources());
    }

    @Override
    public String toString() {
        return framework + "/" + role + " <- " + agent + " " + resources();
    }
}

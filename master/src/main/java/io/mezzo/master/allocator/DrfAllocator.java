package io.mezzo.master.allocator;

import io.mezzo.common.resources.Resources;
import io.mezzo.common.resources.Roles;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * Dominant Resource Fairness over framework roles: each agent's free resources go to the client
 * with the lowest dominant share (its largest fraction of any scalar resource of the cluster).
 *
 * <p>Pure and deterministic: {@link #allocate} reads only its input and returns the offers to make;
 * no I/O, no clock. Agents are visited in an order shuffled by the input's seed. Clients are kept
 * sorted by (dominant share, allocation count, name); an allocation moves one client, in O(log n).
 *
 * <p>Per agent, the sorted clients are walked in order; each takes everything on the agent it may
 * use (unreserved resources, and those reserved for its role or an ancestor role) unless it refused
 * it or it is below the minimum allocatable size. As in Mesos, the whole free share of an agent goes
 * to one framework per cycle, so offers are few and large.
 */
public final class DrfAllocator {

    private DrfAllocator() {}

    /** Runs one allocation cycle. */
    public static List<Allocation> allocate(AllocationInput input) {
        List<String> scalarNames = new ArrayList<>(input.clusterTotal().scalarNames());
        long[] totals = new long[scalarNames.size()];
        for (int i = 0; i < totals.length; i++) {
            totals[i] = input.clusterTotal().scalar(scalarNames.get(i));
        }

        TreeSet<Client> sorted = new TreeSet<>(Client.ORDER);
        for (AllocatorClient c : input.clients()) {
            sorted.add(new Client(c, share(c.allocated(), scalarNames, totals), c.allocations()));
        }

        List<AllocatorAgent> agents = new ArrayList<>(input.agents());
        Collections.shuffle(agents, new Random(input.seed()));

        List<Allocation> out = new ArrayList<>();
        List<Client> touched = new ArrayList<>();
        for (AllocatorAgent agent : agents) {
            Resources remaining = agent.available();
            touched.clear();
            for (Client client : sorted) {
                if (remaining.isEmpty()) {
                    break;
                }
                String role = client.source.role();
                Resources offerable = remaining.filter(k -> k.unreserved() || Roles.isSubroleOf(role, k.role()));
                if (offerable.isEmpty() || !isAllocatable(offerable, input.minAllocatable())) {
                    continue;
                }
                if (isRefused(client.source.refused().get(agent.id()), offerable)) {
                    continue;
                }
                out.add(new Allocation(client.source.framework(), role, agent.id(), offerable));
                remaining = remaining.minus(offerable);
                client.pending = client.pending.plus(offerable);
                touched.add(client);
            }
            // Re-sort the clients that received something: each move is O(log n).
            for (Client client : touched) {
                sorted.remove(client);
                client.allocated = client.allocated.plus(client.pending);
                client.pending = Resources.EMPTY;
                client.allocations++;
                client.share = share(client.allocated, scalarNames, totals);
                sorted.add(client);
            }
        }
        return out;
    }

    /** The dominant share: the largest fraction of any scalar resource of the cluster held. */
    static double share(Resources allocated, List<String> names, long[] totals) {
        double max = 0;
        for (int i = 0; i < totals.length; i++) {
            if (totals[i] > 0) {
                max = Math.max(max, allocated.scalar(names.get(i)) / (double) totals[i]);
            }
        }
        return max;
    }

    private static boolean isRefused(List<Resources> refusals, Resources offerable) {
        if (refusals != null) {
            for (Resources refused : refusals) {
                if (refused.contains(offerable)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isAllocatable(Resources offerable, List<Resources> minimums) {
        if (minimums.isEmpty()) {
            return true;
        }
        Resources scalars = offerable.scalarsOnly();
        for (Resources min : minimums) {
            if (containsByName(scalars, min)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code have} holds at least {@code min} of each named scalar, whatever the reservation. */
    private static boolean containsByName(Resources have, Resources min) {
        for (String name : min.scalarNames()) {
            if (have.scalar(name) < min.scalar(name)) {
                return false;
            }
        }
        return true;
    }

    /** Mutable sort state of one client during a cycle; never escapes {@link #allocate}. */
    private static final class Client {
        static final Comparator<Client> ORDER = Comparator.<Client>comparingDouble(c -> c.share)
                .thenComparingLong(c -> c.allocations)
                .thenComparing(c -> c.source.name());

        final AllocatorClient source;
        Resources allocated;
        Resources pending = Resources.EMPTY;
        double share;
        long allocations;

        Client(AllocatorClient source, double share, long allocations) {
            this.source = source;
            this.allocated = source.allocated();
            this.share = share;
            this.allocations = allocations;
        }
    }
}

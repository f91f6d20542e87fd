package io.mezzo.master.allocator;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import java.util.ArrayList;
import java.util.List;

/**
 * The minimum allocatable resources: an offer is made only when it holds at least one of these
 * alternatives in full (by name, whatever the reservation). Written as in Mesos'
 * {@code --min_allocatable_resources}: alternatives separated by '|', each a resource string of
 * unreserved scalars, e.g. {@code cpus:0.01|mem:32} (the default).
 *
 * <p>{@link #parse} is the edge (flags, configuration). An instance is the allocator's form of the
 * alternatives, as scalar vectors, that a cycle checks every candidate offer against ({@link
 * #metBy}). Owner of an instance: {@link DrfAllocator}. Thread: the master's event loop.
 */
public final class MinAllocatable {

    /** The default, as in Mesos: cpus 0.01 or mem 32 MB. */
    public static final String DEFAULT = "cpus:0.01|mem:32";

    private final List<Resources> alternatives;
    /** The alternatives as vectors indexed by {@link ScalarNames}; empty for no minimum. */
    private long[][] vectors = new long[0][];

    /** The allocator's form of parsed alternatives; {@link #rebuild} makes the vectors. */
    MinAllocatable(List<Resources> alternatives) {
        this.alternatives = List.copyOf(alternatives);
    }

    /** The alternatives' bags, for interning their names. */
    List<Resources> alternatives() {
        return alternatives;
    }

    /** Builds the vectors for the names' table at {@code width} (at start and when a name is added). */
    void rebuild(ScalarNames names, int width) {
        vectors = new long[alternatives.size()][];
        for (int i = 0; i < vectors.length; i++) {
            long[] v = new long[width];
            Resources bag = alternatives.get(i);
            for (String name : bag.scalarNames()) {
                v[names.indexOf(name)] = bag.scalar(name);
            }
            vectors[i] = v;
        }
    }

    long[][] vectors() {
        return vectors;
    }

    /** Whether scalars {@code sum} hold at least one alternative in full: worth an offer. */
    boolean metBy(long[] sum, int width) {
        if (vectors.length == 0) {
            return true;
        }
        for (long[] alternative : vectors) {
            boolean enough = true;
            for (int r = 0; r < width && enough; r++) {
                enough = sum[r] >= Vectors.at(alternative, r);
            }
            if (enough) {
                return true;
            }
        }
        return false;
    }

    /**
     * Parses the flag's value.
     *
     * @throws IllegalArgumentException naming the part that is wrong
     */
    public static List<Resources> parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("--min_allocatable_resources is empty");
        }
        List<Resources> out = new ArrayList<>();
        for (String part : text.split("\\|", -1)) {
            if (part.isBlank()) {
                throw new IllegalArgumentException("--min_allocatable_resources '" + text + "' has an empty alternative");
            }
            Resources r;
            try {
                r = ResourceText.parse(part);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--min_allocatable_resources '" + part + "': " + e.getMessage());
            }
            if (!r.scalarsOnly().equals(r) || !r.unreserved().equals(r)) {
                throw new IllegalArgumentException(
                        "--min_allocatable_resources '" + part + "' must hold unreserved scalar resources only");
            }
            out.add(r);
        }
        return List.copyOf(out);
    }
}

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
 */
public final class MinAllocatable {

    /** The default, as in Mesos: cpus 0.01 or mem 32 MB. */
    public static final String DEFAULT = "cpus:0.01|mem:32";

    private MinAllocatable() {}

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

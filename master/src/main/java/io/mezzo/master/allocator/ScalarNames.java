package io.mezzo.master.allocator;

import io.mezzo.common.resources.Resources;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The allocator's table of scalar resource names: each name gets a dense index into the {@code
 * long[]} vectors the allocator keeps per agent, client and role. Append-only, so an index never
 * changes meaning. The standard names come first.
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop.
 */
final class ScalarNames {

    /** Names interned up front, so that the common vectors never grow. */
    static final List<String> STANDARD = List.of("cpus", "mem", "disk", "gpus");

    private final Map<String, Integer> index = new HashMap<>();
    private final List<String> names = new ArrayList<>();

    ScalarNames() {
        STANDARD.forEach(this::intern);
    }

    int size() {
        return names.size();
    }

    String name(int i) {
        return names.get(i);
    }

    /** The index of {@code name}, or -1 when it is not in the table. */
    int indexOf(String name) {
        Integer i = index.get(name);
        return i == null ? -1 : i;
    }

    /** The index of {@code name}, adding it when new. The caller grows its vectors to {@link #size()}. */
    int intern(String name) {
        Integer i = index.get(name);
        if (i != null) {
            return i;
        }
        names.add(name);
        index.put(name, names.size() - 1);
        return names.size() - 1;
    }

    /** The positive scalars of a vector as an unreserved bag (views, not the cycle). */
    Resources toResources(long[] v, int width) {
        Resources.Builder b = Resources.builder();
        for (int i = 0; i < width; i++) {
            if (v[i] > 0) {
                b.scalar(names.get(i), v[i]);
            }
        }
        return b.build();
    }

    List<String> all() {
        return List.copyOf(names);
    }
}

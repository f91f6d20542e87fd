package io.mezzo.dist.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Ids as tables show them, and ids as people type them back, as {@code git} and {@code docker}
 * do: each id is cut to its shortest prefix that no other id shares, but never below {@link
 * #MIN_LENGTH} characters (an id that is a prefix of another stays whole), and a typed prefix names
 * the one id it starts. Pure; one thread.
 */
final class ShortIds {

    /** Shortest id shown, unless the id itself is shorter. */
    static final int MIN_LENGTH = 8;

    private final Map<String, String> shortened = new HashMap<>();

    /** The short forms of {@code ids} (duplicates allowed). */
    ShortIds(Collection<String> ids) {
        List<String> sorted = new ArrayList<>(new TreeSet<>(ids));
        for (int i = 0; i < sorted.size(); i++) {
            String id = sorted.get(i);
            // In sorted order the ids sharing the longest prefix with this one are its neighbours.
            int shared = 0;
            if (i > 0) {
                shared = Math.max(shared, common(id, sorted.get(i - 1)));
            }
            if (i + 1 < sorted.size()) {
                shared = Math.max(shared, common(id, sorted.get(i + 1)));
            }
            int length = Math.min(id.length(), Math.max(MIN_LENGTH, shared + 1));
            shortened.put(id, id.substring(0, length));
        }
    }

    /** The short form of {@code id} (the id itself when it was not among those given). */
    String of(String id) {
        return shortened.getOrDefault(id, id);
    }

    private static int common(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    /**
     * The one id among {@code ids} that {@code typed} names: equal to it, or else the only one it
     * starts.
     *
     * @throws CliFailure ({@link ExitCodes#REFUSED}) when none matches, or several do (naming
     *     some of them)
     */
    static <T> T resolve(String typed, Collection<T> objects, java.util.function.Function<T, String> id, String noun) {
        List<T> prefixed = new ArrayList<>();
        for (T o : objects) {
            String value = id.apply(o);
            if (value.equals(typed)) {
                return o;
            }
            if (value.startsWith(typed)) {
                prefixed.add(o);
            }
        }
        if (prefixed.size() == 1) {
            return prefixed.get(0);
        }
        if (prefixed.isEmpty()) {
            throw new CliFailure(ExitCodes.REFUSED, "the master knows no " + noun + " " + typed);
        }
        List<String> names = prefixed.stream().map(id).sorted().limit(5).toList();
        throw new CliFailure(ExitCodes.REFUSED, typed + " names several " + noun + "s (" + String.join(", ", names)
                + (prefixed.size() > 5 ? ", ..." : "") + "): type more of the id");
    }
}

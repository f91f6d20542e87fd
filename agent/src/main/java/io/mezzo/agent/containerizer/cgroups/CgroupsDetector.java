package io.mezzo.agent.containerizer.cgroups;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Works out at start whether the agent can manage cgroups, and which version: reads the mounts from
 * {@code /proc/self/mountinfo}, prefers the unified (v2) hierarchy when it has the cpu and memory
 * controllers, else v1 hierarchies with cpu, cpuacct, memory and freezer (pids is used when mounted),
 * and creates the agent's root cgroup ({@code --cgroups_root}) in each, enabling the v2 controllers on
 * the way down. A host with a v2 mount but its controllers bound to v1 hierarchies (a "hybrid" host)
 * uses v1.
 *
 * <p>Stateless; any thread (the agent calls it once, at start). Public only so that the agent and the
 * tests can use it.
 */
public final class CgroupsDetector {

    /** v1 controllers the isolator needs. */
    static final List<String> V1_REQUIRED = List.of("cpu", "cpuacct", "memory", "freezer");
    /** v1 controllers used when mounted. */
    static final List<String> V1_OPTIONAL = List.of("pids");
    /** v2 controllers the isolator needs. */
    static final List<String> V2_REQUIRED = List.of("cpu", "memory");
    /** v2 controllers enabled when available. */
    static final List<String> V2_OPTIONAL = List.of("pids");

    private CgroupsDetector() {}

    /**
     * What detection found.
     *
     * @param isolator the isolator, when cgroups can be managed
     * @param reason why not, when they cannot (one sentence)
     */
    public record Result(CgroupsIsolator isolator, String reason) {

        /** True when an isolator was made. */
        public boolean available() {
            return isolator != null;
        }
    }

    /**
     * Detects cgroups on this host and prepares the root cgroup {@code root} (a relative path such as
     * {@code mezzo}).
     *
     * @param cfs whether containers get a hard CPU limit
     * @param preferV1 use v1 even when v2 would do (tests)
     */
    public static Result detect(String root, boolean cfs, boolean preferV1) {
        String error = checkRoot(root);
        if (error != null) {
            return new Result(null, error);
        }
        List<Mount> mounts;
        try {
            mounts = parseMountinfo(Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(null, "cannot read /proc/self/mountinfo: " + e.getMessage());
        }
        String v2Reason = null;
        if (!preferV1) {
            Result v2 = v2(mounts, root, cfs);
            if (v2.available()) {
                return v2;
            }
            v2Reason = v2.reason();
        }
        Result v1 = v1(mounts, root, cfs);
        if (v1.available() || v2Reason == null) {
            return v1;
        }
        return new Result(null, v2Reason + "; " + v1.reason());
    }

    /** Only the unified hierarchy, for tests that want v2 or nothing. */
    public static Result detectV2(String root, boolean cfs) {
        String error = checkRoot(root);
        if (error != null) {
            return new Result(null, error);
        }
        try {
            return v2(parseMountinfo(Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)),
                    root, cfs);
        } catch (IOException e) {
            return new Result(null, "cannot read /proc/self/mountinfo: " + e.getMessage());
        }
    }

    /** Null when {@code root} is a usable relative cgroup path, else why not. */
    public static String checkRoot(String root) {
        if (root == null || root.isEmpty() || root.startsWith("/") || root.endsWith("/")) {
            return "--cgroups_root '" + root + "' must be a relative path such as mezzo";
        }
        for (String part : root.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                return "--cgroups_root '" + root + "' must not contain empty, '.' or '..' parts";
            }
        }
        return null;
    }

    private static Result v2(List<Mount> mounts, String root, boolean cfs) {
        Mount unified = mounts.stream().filter(m -> m.fsType().equals("cgroup2")).findFirst().orElse(null);
        if (unified == null) {
            return new Result(null, "no cgroup2 hierarchy is mounted");
        }
        Set<String> available;
        try {
            available = Set.of(Files.readString(unified.mountPoint().resolve("cgroup.controllers"),
                    StandardCharsets.US_ASCII).trim().split("\\s+"));
        } catch (IOException e) {
            return new Result(null, "cannot read " + unified.mountPoint().resolve("cgroup.controllers"));
        }
        List<String> missing = V2_REQUIRED.stream().filter(c -> !available.contains(c)).toList();
        if (!missing.isEmpty()) {
            return new Result(null, "the cgroup2 hierarchy at " + unified.mountPoint() + " lacks the " + missing
                    + " controllers (bound to v1 hierarchies?)");
        }
        List<String> wanted = new ArrayList<>(V2_REQUIRED);
        V2_OPTIONAL.stream().filter(available::contains).forEach(wanted::add);
        StringBuilder enable = new StringBuilder();
        for (String c : wanted) {
            enable.append(enable.length() == 0 ? "" : " ").append('+').append(c);
        }
        // Controllers must be enabled in every ancestor's subtree_control down to the root cgroup, and
        // a v2 cgroup with controllers enabled for its children may hold no process itself.
        Path dir = unified.mountPoint();
        try {
            enableControllers(dir, enable.toString(), wanted);
            for (String part : root.split("/")) {
                dir = dir.resolve(part);
                Files.createDirectories(dir);
                enableControllers(dir, enable.toString(), wanted);
            }
        } catch (IOException e) {
            return new Result(null, "cannot prepare cgroup " + dir + ": " + e.getMessage());
        }
        return new Result(new CgroupsIsolator(CgroupsIsolator.Version.V2, root, cfs,
                Map.of("", unified.mountPoint())), null);
    }

    private static void enableControllers(Path dir, String enable, List<String> wanted) throws IOException {
        Path control = dir.resolve("cgroup.subtree_control");
        String current = Files.readString(control, StandardCharsets.US_ASCII);
        Set<String> enabled = Set.of(current.trim().split("\\s+"));
        if (!enabled.containsAll(wanted)) {
            CgroupsIsolator.write(control, enable);
        }
    }

    private static Result v1(List<Mount> mounts, String root, boolean cfs) {
        Map<String, Path> byController = new LinkedHashMap<>();
        for (Mount m : mounts) {
            if (!m.fsType().equals("cgroup")) {
                continue;
            }
            for (String option : m.superOptions().split(",")) {
                if ((V1_REQUIRED.contains(option) || V1_OPTIONAL.contains(option)) && !byController.containsKey(option)) {
                    byController.put(option, m.mountPoint());
                }
            }
        }
        List<String> missing = V1_REQUIRED.stream().filter(c -> !byController.containsKey(c)).toList();
        if (!missing.isEmpty()) {
            return new Result(null, "no cgroup v1 hierarchy is mounted for " + missing);
        }
        for (Path mount : new java.util.LinkedHashSet<>(byController.values())) {
            Path dir = mount.resolve(root);
            try {
                Files.createDirectories(dir);
                if (!Files.isWritable(dir.resolve("cgroup.procs"))) {
                    return new Result(null, dir.resolve("cgroup.procs") + " is not writable");
                }
            } catch (IOException e) {
                return new Result(null, "cannot create cgroup " + dir + ": " + e.getMessage());
            }
        }
        return new Result(new CgroupsIsolator(CgroupsIsolator.Version.V1, root, cfs, byController), null);
    }

    /** One mount of {@code /proc/self/mountinfo}. */
    record Mount(Path mountPoint, String fsType, String superOptions) {}

    /** Parses mountinfo lines: "id parent dev root mountpoint options [optional...] - type source super". */
    static List<Mount> parseMountinfo(List<String> lines) {
        List<Mount> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 7 || dash < 0 || dash + 1 >= f.length) {
                continue;
            }
            String type = f[dash + 1];
            String superOptions = dash + 3 < f.length ? f[dash + 3] : "";
            out.add(new Mount(Path.of(unescape(f[4])), type, superOptions));
        }
        return out;
    }

    /** mountinfo escapes spaces and friends as {@code \040}-style octal. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // Not an escape.
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}

package io.mezzo.agent.testing;

import io.mezzo.agent.containerizer.ProcTable;
import io.mezzo.agent.containerizer.cgroups.CgroupsDetector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Cgroup roots for tests: each test gets its own {@code --cgroups_root} under {@code mezzo-test/}, so
 * that tests (and other builds on the same host) never touch each other's containers, and removes it
 * afterwards. Also tells whether this host lets tests manage cgroups at all, and why not.
 */
public final class TestCgroups {

    private TestCgroups() {}

    /** A fresh root such as {@code mezzo-test/3f2a...}. */
    public static String uniqueRoot() {
        return "mezzo-test/" + UUID.randomUUID().toString().substring(0, 12);
    }

    /** Null when cgroups (any version) can be managed here, else why not. */
    public static String unavailableReason() {
        if (!isRoot()) {
            return "the tests do not run as root";
        }
        String root = uniqueRoot();
        CgroupsDetector.Result r = CgroupsDetector.detect(root, false, false);
        remove(root);
        return r.available() ? null : r.reason();
    }

    /** True when the tests run as root. */
    public static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Removes {@code root} (and any cgroup left under it) from every cgroup hierarchy. */
    public static void remove(String root) {
        // Killed processes take a moment to leave their cgroup: retry, within bounds.
        org.awaitility.Awaitility.await("cgroup " + root + " removed")
                .atMost(java.time.Duration.ofSeconds(10))
                .pollInterval(java.time.Duration.ofMillis(50))
                .until(() -> removeOnce(root));
        // The shared parent goes too when no other test uses it.
        for (Path mount : cgroupMounts()) {
            try {
                Files.deleteIfExists(mount.resolve("mezzo-test"));
            } catch (IOException e) {
                // Another test still has a root there.
            }
        }
    }

    private static boolean removeOnce(String root) {
        boolean done = true;
        for (Path mount : cgroupMounts()) {
            Path dir = mount.resolve(root);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> dirs = Files.walk(dir)) {
                for (Path d : dirs.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    killAll(d);
                    try {
                        Files.deleteIfExists(d);
                    } catch (IOException e) {
                        done = false;
                    }
                }
            } catch (IOException | RuntimeException e) {
                done = false;
            }
        }
        return done;
    }

    private static void killAll(Path dir) {
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"), StandardCharsets.US_ASCII)) {
                if (!line.isBlank()) {
                    ProcessHandle.of(Long.parseLong(line.trim())).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone.
        }
    }

    /** The mount points of every cgroup and cgroup2 file system. */
    public static List<Path> cgroupMounts() {
        List<Path> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                int dash = List.of(f).indexOf("-");
                if (dash > 0 && dash + 1 < f.length && (f[dash + 1].equals("cgroup") || f[dash + 1].equals("cgroup2"))) {
                    out.add(Path.of(f[4]));
                }
            }
        } catch (IOException e) {
            // No cgroups.
        }
        return out;
    }

    /** Alive and not a zombie (this host's init may never reap orphans, so Java's isAlive is not enough). */
    public static boolean running(long pid) {
        return ProcTable.isRunning(pid);
    }
}

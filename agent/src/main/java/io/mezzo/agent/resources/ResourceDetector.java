package io.mezzo.agent.resources;

import io.mezzo.common.resources.RangeSet;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.resources.Scalars;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Works out what the agent offers, as Mesos does: the standard resources (cpus, mem, disk, ports) the
 * operator did not give with {@code --resources} are detected on the host; everything given is taken
 * as is.
 *
 * <ul>
 *   <li>cpus: the processors available to the JVM;
 *   <li>mem: total physical memory in MB, less a reserve for the system: 1 GB when there are at least
 *       2 GB, else half;
 *   <li>disk: usable space in MB of the file system holding the work directory, less a reserve: 5 GB
 *       when there are at least 10 GB, else half;
 *   <li>ports: {@value #DEFAULT_PORTS}.
 * </ul>
 *
 * <p>Pure apart from {@link HostFacts#probe}; any thread. Public so that the launcher can use it.
 */
public final class ResourceDetector {

    /** Ports offered when {@code --resources} names none. */
    public static final String DEFAULT_PORTS = "[31000-32000]";

    private static final long MB = 1024L * 1024L;

    private ResourceDetector() {}

    /**
     * What the host has, before any reserve is taken.
     *
     * @param cpus processors available
     * @param memoryMb total physical memory in MB
     * @param diskMb usable space of the work directory's file system in MB
     */
    public record HostFacts(int cpus, long memoryMb, long diskMb) {

        /** Reads the host: processors, physical memory, and the file system holding {@code workDir}. */
        public static HostFacts probe(Path workDir) {
            int cpus = Runtime.getRuntime().availableProcessors();
            long memoryBytes = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getTotalMemorySize();
            long diskBytes;
            try {
                diskBytes = Files.getFileStore(existingAncestor(workDir)).getUsableSpace();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the disk space of " + workDir + ": " + e.getMessage(), e);
            }
            return new HostFacts(cpus, memoryBytes / MB, diskBytes / MB);
        }

        private static Path existingAncestor(Path dir) {
            Path p = dir.toAbsolutePath();
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            return p == null ? Path.of("/") : p;
        }
    }

    /** The standard resources detected from {@code facts}, reserves taken. */
    public static Resources detect(HostFacts facts) {
        return Resources.builder()
                .scalar(Resources.CPUS, facts.cpus() * Scalars.SCALE)
                .scalar(Resources.MEM, memoryMb(facts.memoryMb()) * Scalars.SCALE)
                .scalar(Resources.DISK, diskMb(facts.diskMb()) * Scalars.SCALE)
                .ranges(Resources.PORTS, RangeSet.of(31000, 32000))
                .build();
    }

    /**
     * The agent's total: everything {@code given}, plus each standard resource that {@code given} does
     * not name (under any role), detected from {@code facts}.
     */
    public static Resources total(Resources given, HostFacts facts) {
        SortedSet<String> named = new TreeSet<>();
        given.keys().forEach(k -> named.add(k.name()));
        Resources detected = detect(facts).filter(k -> !named.contains(k.name()));
        return given.plus(detected);
    }

    /** Memory offered: all but 1 GB when there are at least 2 GB, else half. */
    static long memoryMb(long totalMb) {
        return totalMb >= 2048 ? totalMb - 1024 : totalMb / 2;
    }

    /** Disk offered: all but 5 GB when there are at least 10 GB, else half. */
    static long diskMb(long totalMb) {
        return totalMb >= 10 * 1024 ? totalMb - 5 * 1024 : totalMb / 2;
    }
}

package io.mezzo.agent.containerizer.cgroups;

import io.mezzo.agent.containerizer.Isolation;
import io.mezzo.agent.containerizer.Isolator;
import io.mezzo.agent.containerizer.Limits;
import io.mezzo.agent.containerizer.ProcTable;
import io.mezzo.agent.containerizer.UsageSample;
import io.mezzo.common.id.ContainerId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Isolates each container in a cgroup of its own, {@code <root>/<container id>} under every hierarchy the
 * agent uses, so that the kernel enforces its limits and the agent can find (and kill) every process it
 * started, double-forked daemons included.
 *
 * <ul>
 *   <li>cgroups v2 (one unified hierarchy): {@code cpu.weight} from the cpus resource, {@code cpu.max}
 *       with {@code --cgroups_enable_cfs}, {@code memory.max} (no swap, {@code memory.oom.group} so an
 *       OOM kill takes the whole container), {@code cgroup.kill} to kill everything at once (or freeze,
 *       kill, thaw on kernels without it).
 *   <li>cgroups v1 (a hierarchy per controller): {@code cpu.shares}, {@code cpu.cfs_quota_us}, {@code
 *       memory.limit_in_bytes}, {@code cpuacct} for usage, and the {@code freezer} to stop every process
 *       before killing them, so none can fork away meanwhile.
 * </ul>
 *
 * <p>Made by {@link CgroupsDetector} when the host lets the agent manage cgroups. Stateless apart from
 * the mount points found at start; thread-safe. Owner: the containerizer. Public only so that the
 * agent's other packages can use it.
 */
public final class CgroupsIsolator implements Isolator {

    /** The cgroup versions. */
    public enum Version {
        /** One hierarchy per controller. */
        V1,
        /** The unified hierarchy. */
        V2
    }

    /** CFS period, as Mesos: 100 ms. */
    static final long CFS_PERIOD_US = 100_000;
    /** The smallest CFS quota the kernel accepts. */
    static final long MIN_CFS_QUOTA_US = 1_000;

    private final Version version;
    private final String root;
    private final boolean cfs;
    // V1: controller name -> mount point; V2: "" -> mount point.
    private final Map<String, Path> mounts;

    CgroupsIsolator(Version version, String root, boolean cfs, Map<String, Path> mounts) {
        this.version = version;
        this.root = root;
        this.cfs = cfs;
        this.mounts = Map.copyOf(mounts);
    }

    /** V1 or V2. */
    public Version version() {
        return version;
    }

    /** The path under each hierarchy holding the agent's cgroups ({@code --cgroups_root}). */
    public String root() {
        return root;
    }

    @Override
    public String name() {
        return version == Version.V2 ? "cgroups-v2" : "cgroups-v1";
    }

    @Override
    public boolean enforcesMemory() {
        return true;
    }

    @Override
    public boolean capsCpu() {
        return cfs;
    }

    @Override
    public Isolation prepare(ContainerId id, Limits limits) throws IOException {
        Isolation isolation = isolationOf(root + "/" + id.value());
        for (Path dir : isolation.dirs()) {
            Files.createDirectories(dir);
        }
        long cpus = limits.cpusMilli();
        long mem = limits.enforcedMemBytes();
        if (version == Version.V2) {
            Path dir = isolation.dirs().get(0);
            if (cpus > 0) {
                write(dir.resolve("cpu.weight"), Long.toString(weight(shares(cpus))));
                if (cfs) {
                    write(dir.resolve("cpu.max"), quota(cpus) + " " + CFS_PERIOD_US);
                }
            }
            if (mem > 0) {
                write(dir.resolve("memory.max"), Long.toString(mem));
                writeIfPresent(dir.resolve("memory.swap.max"), "0");
                // One OOM kill takes the whole container, as Mesos destroys a container on OOM.
                writeIfPresent(dir.resolve("memory.oom.group"), "1");
            }
        } else {
            if (cpus > 0) {
                Path cpu = dir("cpu", isolation);
                write(cpu.resolve("cpu.shares"), Long.toString(shares(cpus)));
                if (cfs) {
                    write(cpu.resolve("cpu.cfs_period_us"), Long.toString(CFS_PERIOD_US));
                    write(cpu.resolve("cpu.cfs_quota_us"), Long.toString(quota(cpus)));
                }
            }
            if (mem > 0) {
                write(dir("memory", isolation).resolve("memory.limit_in_bytes"), Long.toString(mem));
            }
        }
        return isolation;
    }

    @Override
    public void isolate(Isolation isolation, long pid) throws IOException {
        for (Path dir : isolation.dirs()) {
            write(dir.resolve("cgroup.procs"), Long.toString(pid));
        }
    }

    @Override
    public Isolation recover(ContainerId id, String name) {
        return isolationOf(name.isEmpty() ? root + "/" + id.value() : name);
    }

    @Override
    public List<Long> members(Isolation isolation, long leader, String marker) {
        return procs(procsDir(isolation));
    }

    @Override
    public void killAll(Isolation isolation, long leader, String marker) {
        if (version == Version.V2) {
            Path dir = isolation.dirs().get(0);
            Path kill = dir.resolve("cgroup.kill");
            if (Files.exists(kill)) {
                try {
                    write(kill, "1");
                    return;
                } catch (IOException e) {
                    // Fall back to freezing below.
                }
            }
            freezeKillThaw(dir.resolve("cgroup.freeze"), "1", "0", dir);
        } else {
            Path freezer = dir("freezer", isolation);
            freezeKillThaw(freezer.resolve("freezer.state"), "FROZEN", "THAWED", freezer);
        }
    }

    /** Freezes the cgroup (nothing in it can fork any more), SIGKILLs every member, thaws it so they die. */
    private static void freezeKillThaw(Path control, String freeze, String thaw, Path procsDir) {
        boolean frozen = false;
        try {
            write(control, freeze);
            frozen = true;
        } catch (IOException e) {
            // Gone already, or no freezer: kill what is there.
        }
        for (long pid : procs(procsDir)) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        if (frozen) {
            try {
                write(control, thaw);
            } catch (IOException e) {
                // The cgroup vanished with its processes.
            }
        }
    }

    @Override
    public void cleanup(Isolation isolation) throws IOException {
        for (Path dir : isolation.dirs()) {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new IOException("cannot remove cgroup " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public UsageSample sample(Isolation isolation, long leader, String marker) {
        double user;
        double system;
        long rss;
        long limit;
        long peak;
        long ooms;
        int processes = procs(procsDir(isolation)).size();
        if (version == Version.V2) {
            Path dir = isolation.dirs().get(0);
            Map<String, Long> cpu = keyed(dir.resolve("cpu.stat"));
            user = cpu.getOrDefault("user_usec", 0L) / 1e6;
            system = cpu.getOrDefault("system_usec", 0L) / 1e6;
            rss = keyed(dir.resolve("memory.stat")).getOrDefault("anon", 0L);
            limit = number(dir.resolve("memory.max")).orElse(0);
            peak = number(dir.resolve("memory.peak")).orElse(0);
            ooms = keyed(dir.resolve("memory.events")).getOrDefault("oom_kill", 0L);
        } else {
            Path cpuacct = dir("cpuacct", isolation);
            OptionalLong userNs = number(cpuacct.resolve("cpuacct.usage_user"));
            OptionalLong sysNs = number(cpuacct.resolve("cpuacct.usage_sys"));
            if (userNs.isPresent() && sysNs.isPresent()) {
                user = userNs.getAsLong() / 1e9;
                system = sysNs.getAsLong() / 1e9;
            } else {
                Map<String, Long> stat = keyed(cpuacct.resolve("cpuacct.stat"));
                user = stat.getOrDefault("user", 0L) / (double) ProcTable.TICKS_PER_SECOND;
                system = stat.getOrDefault("system", 0L) / (double) ProcTable.TICKS_PER_SECOND;
            }
            Path memory = dir("memory", isolation);
            Map<String, Long> stat = keyed(memory.resolve("memory.stat"));
            rss = stat.getOrDefault("total_rss", stat.getOrDefault("rss", 0L));
            long l = number(memory.resolve("memory.limit_in_bytes")).orElse(0);
            // An unlimited v1 cgroup reports a huge page-aligned number instead of "max".
            limit = l >= Long.MAX_VALUE / 2 ? 0 : l;
            peak = number(memory.resolve("memory.max_usage_in_bytes")).orElse(0);
            ooms = keyed(memory.resolve("memory.oom_control")).getOrDefault("oom_kill", 0L);
        }
        return new UsageSample(user, system, rss, limit, peak, processes, ooms);
    }

    /** The isolation of the cgroup at {@code name} (relative to each hierarchy). */
    Isolation isolationOf(String name) {
        Set<Path> dirs = new LinkedHashSet<>();
        for (Path mount : mounts.values()) {
            dirs.add(mount.resolve(name));
        }
        return new Isolation(name(), name, new ArrayList<>(dirs));
    }

    private Path dir(String controller, Isolation isolation) {
        return mounts.get(controller).resolve(isolation.name());
    }

    private Path procsDir(Isolation isolation) {
        return version == Version.V2 ? isolation.dirs().get(0) : dir("freezer", isolation);
    }

    /** cpu.shares from cpus, as Mesos: 1024 per cpu, at least 2. */
    static long shares(long cpusMilli) {
        return Math.max(2, cpusMilli * 1024 / 1000);
    }

    /** cpu.weight (v2) from cpu.shares, the mapping systemd and runc use. */
    static long weight(long shares) {
        return 1 + ((shares - 2) * 9999) / 262142;
    }

    /** CFS quota in microseconds per period for {@code cpusMilli}. */
    static long quota(long cpusMilli) {
        return Math.max(MIN_CFS_QUOTA_US, cpusMilli * CFS_PERIOD_US / 1000);
    }

    static List<Long> procs(Path dir) {
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"), StandardCharsets.US_ASCII)) {
                if (!line.isBlank()) {
                    pids.add(Long.parseLong(line.trim()));
                }
            }
        } catch (IOException | RuntimeException e) {
            // A cgroup already removed has no processes.
        }
        return pids;
    }

    static void write(Path file, String value) throws IOException {
        // No O_CREAT or O_TRUNC: these are kernel control files.
        try {
            Files.write(file, value.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("cannot write '" + value + "' to " + file + ": " + describe(e), e);
        }
    }

    private static void writeIfPresent(Path file, String value) throws IOException {
        if (Files.exists(file)) {
            write(file, value);
        }
    }

    /** "key value" lines as a map; unreadable files give an empty map. */
    static Map<String, Long> keyed(Path file) {
        Map<String, Long> out = new java.util.HashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                String[] kv = line.trim().split("\\s+");
                if (kv.length == 2) {
                    try {
                        out.put(kv[0], Long.parseLong(kv[1]));
                    } catch (NumberFormatException e) {
                        // Not a number ("max"): not needed.
                    }
                }
            }
        } catch (IOException e) {
            // Unreadable: nothing measured.
        }
        return out;
    }

    /** A file holding one number; empty for "max", a missing file or anything else. */
    static OptionalLong number(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
            return OptionalLong.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    @Override
    public String toString() {
        return "CgroupsIsolator[" + name() + " root " + root + " " + mounts + (cfs ? " cfs" : "") + "]";
    }
}

package io.mezzo.agent.containerizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Reads processes from {@code /proc}: what the posix isolator uses to find a container's processes and
 * their usage, and what recovery uses to tell a live process from a reused pid (its start time).
 *
 * <p>Zombies count as gone: on hosts whose init does not reap orphans, a killed daemon stays a zombie
 * forever, and Java's {@link ProcessHandle#isAlive()} would still call it alive.
 *
 * <p>Stateless; any thread (the agent calls it from its loop for single processes and from a worker for
 * whole-table scans). Public only so that the agent's other packages can use it.
 */
public final class ProcTable {

    /** Clock ticks per second of {@code /proc/<pid>/stat} times (USER_HZ, 100 on every Linux port). */
    public static final long TICKS_PER_SECOND = 100;

    private static final Path PROC = Path.of("/proc");

    private ProcTable() {}

    /**
     * One process as {@code /proc/<pid>/stat} describes it.
     *
     * @param pid process id
     * @param ppid parent process id
     * @param pgrp process group id
     * @param session session id
     * @param state one-letter state; 'Z' is a zombie, 'X' dead
     * @param utime user CPU time in ticks
     * @param stime system CPU time in ticks
     * @param cutime user CPU time of waited-for children, in ticks
     * @param cstime system CPU time of waited-for children, in ticks
     * @param startTime start time in ticks after boot: with the pid, identifies the process
     */
    public record Proc(
            long pid,
            long ppid,
            long pgrp,
            long session,
            char state,
            long utime,
            long stime,
            long cutime,
            long cstime,
            long startTime) {

        /** False for zombies and dead processes. */
        public boolean running() {
            return state != 'Z' && state != 'X' && state != 'x';
        }
    }

    /** The process {@code pid}, if {@code /proc} still has it. */
    public static Optional<Proc> read(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.UTF_8);
            return Optional.of(parse(stat));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Parses one {@code stat} line. Package-private for tests. */
    static Proc parse(String stat) {
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
        int close = stat.lastIndexOf(')');
        long pid = Long.parseLong(stat.substring(0, stat.indexOf(' ')).trim());
        String[] f = stat.substring(close + 2).trim().split(" ");
        // f[0] is field 3 (state); field n is f[n - 3].
        return new Proc(
                pid,
                Long.parseLong(f[1]),
                Long.parseLong(f[2]),
                Long.parseLong(f[3]),
                f[0].charAt(0),
                Long.parseLong(f[11]),
                Long.parseLong(f[12]),
                Long.parseLong(f[13]),
                Long.parseLong(f[14]),
                Long.parseLong(f[19]));
    }

    /** The start time of {@code pid} in ticks after boot, if it exists and is not a zombie. */
    public static OptionalLong startTime(long pid) {
        return read(pid).filter(Proc::running).map(p -> OptionalLong.of(p.startTime())).orElse(OptionalLong.empty());
    }

    /** True when {@code pid} runs (not a zombie) and started at {@code startTime}: the same process. */
    public static boolean isRunning(long pid, long startTime) {
        return read(pid).filter(Proc::running).map(p -> p.startTime() == startTime).orElse(false);
    }

    /** True when {@code pid} runs and is not a zombie, whatever its start time. */
    public static boolean isRunning(long pid) {
        return read(pid).map(Proc::running).orElse(false);
    }

    /** Every process in {@code /proc} (those that vanish while reading are skipped). */
    public static List<Proc> scan() {
        List<Proc> all = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (!name.isEmpty() && Character.isDigit(name.charAt(0))) {
                    read(Long.parseLong(name)).ifPresent(all::add);
                }
            }
        } catch (IOException | RuntimeException e) {
            // A /proc that cannot be listed leaves nothing to find.
        }
        return all;
    }

    /**
     * The running processes of the session led by {@code leader}, and every running descendant of the
     * leader (descendants that started sessions of their own included). {@code leader} itself is
     * included while it runs.
     */
    public static List<Proc> sessionAndDescendants(List<Proc> table, long leader) {
        Map<Long, List<Proc>> children = new HashMap<>();
        for (Proc p : table) {
            children.computeIfAbsent(p.ppid(), k -> new ArrayList<>()).add(p);
        }
        Set<Long> seen = new HashSet<>();
        List<Proc> out = new ArrayList<>();
        List<Proc> todo = new ArrayList<>();
        for (Proc p : table) {
            if (p.session() == leader || p.pid() == leader) {
                todo.add(p);
            }
        }
        while (!todo.isEmpty()) {
            Proc p = todo.remove(todo.size() - 1);
            if (!seen.add(p.pid())) {
                continue;
            }
            if (p.running()) {
                out.add(p);
            }
            todo.addAll(children.getOrDefault(p.pid(), List.of()));
        }
        return out;
    }

    /** Resident memory of {@code pid} in bytes ({@code VmRSS} of its status), 0 if unknown. */
    public static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(PROC.resolve(Long.toString(pid)).resolve("status"),
                    StandardCharsets.UTF_8)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024L;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone, or a kernel thread without VmRSS.
        }
        return 0;
    }

    /**
     * True when the environment of {@code pid} holds exactly {@code entry} (e.g. {@code
     * MEZZO_CONTAINER_ID=...}). Processes of other users are unreadable unless the agent is root.
     */
    public static boolean environContains(long pid, String entry) {
        byte[] data;
        try {
            data = Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve("environ"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
        byte[] want = entry.getBytes(StandardCharsets.UTF_8);
        int start = 0;
        for (int i = 0; i <= data.length; i++) {
            if (i == data.length || data[i] == 0) {
                if (i - start == want.length && regionEquals(data, start, want)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    private static boolean regionEquals(byte[] data, int start, byte[] want) {
        for (int j = 0; j < want.length; j++) {
            if (data[start + j] != want[j]) {
                return false;
            }
        }
        return true;
    }
}

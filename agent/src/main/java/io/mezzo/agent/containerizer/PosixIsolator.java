package io.mezzo.agent.containerizer;

import io.mezzo.common.id.ContainerId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The posix fallback: no kernel isolation. A container's processes are its launcher's session, every
 * descendant of the launcher, and every process whose environment still carries the container's
 * {@code MEZZO_CONTAINER_ID} (daemons that double-forked away from the session). Usage is summed over
 * them from {@code /proc}; the memory limit is enforced by the agent's periodic sampling (a kill when
 * the resident memory passes it), so enforcement is best-effort.
 *
 * <p>Stateless apart from the signaller; thread-safe. Owner: the {@link Containerizer}. Public only so
 * that the agent's other packages can use it.
 */
public final class PosixIsolator implements Isolator {

    /** The isolator's name in {@code ContainerStatus.isolation}. */
    public static final String NAME = "posix";

    private final Signals signals;

    /** An isolator signalling process groups with {@code signals}. */
    PosixIsolator(Signals signals) {
        this.signals = signals;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean enforcesMemory() {
        return false;
    }

    @Override
    public boolean capsCpu() {
        return false;
    }

    @Override
    public Isolation prepare(ContainerId id, Limits limits) {
        return Isolation.posix();
    }

    @Override
    public void isolate(Isolation isolation, long pid) {
        // The launcher already leads a session of its own.
    }

    @Override
    public Isolation recover(ContainerId id, String name) {
        return Isolation.posix();
    }

    @Override
    public List<Long> members(Isolation isolation, long leader, String marker) {
        List<ProcTable.Proc> table = ProcTable.scan();
        Set<Long> pids = new LinkedHashSet<>();
        for (ProcTable.Proc p : ProcTable.sessionAndDescendants(table, leader)) {
            pids.add(p.pid());
        }
        long self = ProcessHandle.current().pid();
        for (ProcTable.Proc p : table) {
            if (p.running() && !pids.contains(p.pid()) && p.pid() != self && ProcTable.environContains(p.pid(), marker)) {
                pids.add(p.pid());
            }
        }
        return new ArrayList<>(pids);
    }

    @Override
    public void killAll(Isolation isolation, long leader, String marker) {
        signals.group(leader, "KILL");
        for (long pid : members(isolation, leader, marker)) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Override
    public void cleanup(Isolation isolation) {
        // Nothing was created.
    }

    @Override
    public UsageSample sample(Isolation isolation, long leader, String marker) {
        List<ProcTable.Proc> table = ProcTable.scan();
        List<ProcTable.Proc> procs = new ArrayList<>(ProcTable.sessionAndDescendants(table, leader));
        Set<Long> seen = new LinkedHashSet<>();
        procs.forEach(p -> seen.add(p.pid()));
        long self = ProcessHandle.current().pid();
        for (ProcTable.Proc p : table) {
            if (p.running() && !seen.contains(p.pid()) && p.pid() != self && ProcTable.environContains(p.pid(), marker)) {
                procs.add(p);
            }
        }
        long user = 0;
        long system = 0;
        long rss = 0;
        for (ProcTable.Proc p : procs) {
            // Children already waited for are in cutime/cstime of their parent; live ones count themselves.
            user += p.utime() + p.cutime();
            system += p.stime() + p.cstime();
            rss += ProcTable.rssBytes(p.pid());
        }
        return new UsageSample(
                user / (double) ProcTable.TICKS_PER_SECOND,
                system / (double) ProcTable.TICKS_PER_SECOND,
                rss,
                0,
                0,
                procs.size(),
                0);
    }
}

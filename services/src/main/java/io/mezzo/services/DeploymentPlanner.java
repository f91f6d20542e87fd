package io.mezzo.services;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The rules of one step for one service, as a pure function: from the service, its deployment (if
 * any) and its instances, what to launch on the next offers and what to kill now. It keeps the
 * deployment invariants of {@link ServiceManager} (numbered there): a healthy instance is killed only
 * while {@code minHealthy} others stay healthy, at most {@code maxParallel} new instances are not yet
 * healthy, at most {@code instances + maxSurge} are live; canaries run beside the old version until
 * promoted; a failed deployment freezes; draining instances go once their replacements are healthy.
 *
 * <pre>
 *   (service, deployment, instances, recovering?, now) -> Plan(launches: versions, kills: instances)
 *      steady / failed: keep n of the target (or the failed deployment's from) version
 *      canary:          c new beside the old; old ones that fail are replaced by the old version
 *      rolling:         surge and kill within maxSurge / maxParallel / minHealthy
 * </pre>
 *
 * <p>No state, no I/O; any thread. Owner: {@link ServiceManager}, which acts on the plan.
 */
final class DeploymentPlanner {

    private DeploymentPlanner() {}

    /** What a service needs now: versions to launch on the next offers, instances to kill at once. */
    record Plan(List<Integer> launches, List<Instance> kills) {}

    /**
     * The plan for {@code s}; {@code mine} is every instance of it, {@code recovering} whether the
     * master has not yet answered about recovered instances (then nothing is planned for a service
     * that has one).
     */
    static Plan plan(ServiceState s, Deployment d, List<Instance> mine, boolean recovering, long now) {
        List<Instance> live = mine.stream().filter(i -> i.phase != Instance.Phase.KILLING).toList();
        List<Integer> launches = new ArrayList<>();
        List<Instance> kills = new ArrayList<>();
        if (s.status == ServiceState.Status.DELETING) {
            return new Plan(launches, new ArrayList<>(live));
        }
        if (recovering && mine.stream().anyMatch(i -> i.recovered)) {
            return new Plan(launches, kills);
        }
        boolean mayLaunch = s.status == ServiceState.Status.ACTIVE && now >= s.nextLaunchAt;
        int n = s.def().instances();
        List<Instance> placed = live.stream().filter(i -> !i.draining).toList();
        List<Instance> draining = live.stream().filter(i -> i.draining).toList();
        int healthyAll = (int) live.stream().filter(Instance::isHealthy).count();
        if (d == null || !d.active()) {
            // Steady (or a failed deployment, frozen): keep n of the target version.
            int version = d != null && d.state == Deployment.State.FAILED ? d.fromVersion : s.target;
            if (!s.versions.containsKey(version)) {
                version = s.target;
            }
            int v = version;
            List<Instance> current = new ArrayList<>(placed.stream().filter(i -> i.version == v).toList());
            List<Instance> other = new ArrayList<>(placed.stream().filter(i -> i.version != v).toList());
            if (d != null && d.state == Deployment.State.FAILED) {
                current.addAll(other);
                other.clear();
            }
            if (mayLaunch) {
                for (int k = current.size(); k < n; k++) {
                    launches.add(version);
                }
            }
            List<Instance> order = killOrder(current);
            for (int k = 0; k < current.size() - n; k++) {
                kills.add(order.get(k));
            }
            long healthyCurrent = current.stream().filter(Instance::isHealthy).count() - kills.stream().filter(Instance::isHealthy).count();
            for (Instance o : killOrder(other)) {
                if (!o.isHealthy() || healthyCurrent >= n) {
                    kills.add(o);
                }
            }
            if (healthyCurrent >= n) {
                kills.addAll(draining);
            }
            return new Plan(launches, kills);
        }
        ServiceDefinition.UpgradeStrategy u = s.versions.get(d.toVersion).upgrade();
        List<Instance> fresh = new ArrayList<>(placed.stream().filter(i -> i.version == d.toVersion).toList());
        List<Instance> old = new ArrayList<>(placed.stream().filter(i -> i.version != d.toVersion).toList());
        int freshHealthy = (int) fresh.stream().filter(Instance::isHealthy).count();
        int inFlight = fresh.size() - freshHealthy;
        if (d.inCanary()) {
            int c = Math.min(d.canaries, n);
            for (int k = fresh.size(); mayLaunch && k < c && inFlight + launches.size() < u.maxParallel(); k++) {
                launches.add(d.toVersion);
            }
            List<Instance> order = killOrder(fresh);
            for (int k = 0; k < fresh.size() - c; k++) {
                kills.add(order.get(k));
            }
            // Old instances that fail meanwhile are replaced with the old version.
            for (int k = old.size(); mayLaunch && k < n && s.versions.containsKey(d.fromVersion); k++) {
                launches.add(d.fromVersion);
            }
            return new Plan(launches, kills);
        }
        int minHealthy = u.minHealthy(n);
        int total = placed.size();
        int launching = 0;
        boolean changed = true;
        List<Instance> oldOrder = new ArrayList<>(killOrder(old));
        while (changed) {
            changed = false;
            if (!oldOrder.isEmpty()) {
                Instance c = oldOrder.get(0);
                boolean excess = freshHealthy + oldOrder.size() > n;
                boolean needRoom = fresh.size() + launching < n && total + launching >= n + u.maxSurge()
                        && inFlight + launching < u.maxParallel();
                if ((excess || needRoom) && (!c.isHealthy() || healthyAll - 1 >= minHealthy)) {
                    kills.add(c);
                    oldOrder.remove(0);
                    total--;
                    if (c.isHealthy()) {
                        healthyAll--;
                    }
                    changed = true;
                }
            }
            if (mayLaunch && fresh.size() + launching < n && total + launching < n + u.maxSurge()
                    && inFlight + launching < u.maxParallel()) {
                launching++;
                changed = true;
            }
        }
        for (int k = 0; k < launching; k++) {
            launches.add(d.toVersion);
        }
        List<Instance> order = killOrder(fresh);
        for (int k = 0; k < fresh.size() - n; k++) {
            kills.add(order.get(k));
        }
        if (freshHealthy >= n) {
            kills.addAll(draining);
        }
        return new Plan(launches, kills);
    }

    /** Least healthy first, then youngest first: the order in which instances go. */
    static List<Instance> killOrder(List<Instance> list) {
        List<Instance> out = new ArrayList<>(list);
        out.sort(Comparator.comparing((Instance i) -> i.isHealthy() ? 2 : i.phase == Instance.Phase.RUNNING ? 1 : 0)
                .thenComparing(Comparator.comparingLong((Instance i) -> i.launchedAt).reversed())
                .thenComparing(i -> i.id, Comparator.reverseOrder()));
        return out;
    }
}

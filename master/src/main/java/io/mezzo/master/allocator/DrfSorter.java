package io.mezzo.master.allocator;

import io.mezzo.common.id.FrameworkId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The DRF sorter: the role tree, every node's allocation and cached sort key, and the sorted sets
 * that put the active nodes in DRF order. It answers "who comes first" for {@link DrfAllocator},
 * which decides what each of them is offered, as Mesos splits its hierarchical allocator from its
 * {@code DRFSorter}.
 *
 * <pre>
 *   root "" ── active (DRF order) ──┬── RoleNode "eng" ── active ──┬── OwnLeaf "eng/."
 *                                   │                              │     active: FrameworkRoleNodes
 *                                   └── RoleNode "ops" ...         └── RoleNode "eng/web" ...
 *
 *   key = (share / weight, allocations, name); share = max over scalars of allocated / total
 * </pre>
 *
 * <p>Owner: {@link DrfAllocator}. Thread: the master's event loop only. Pure: no I/O, no clock.
 *
 * <p>Invariants (besides those of {@link RoleNode} and {@link SortNode}):
 *
 * <ol>
 *   <li>A node's key changes only in {@link #reposition}, which takes it out of its sorted sets
 *       first, so no set ever holds a node whose key changed under it.
 *   <li>A node is in its parent's {@code active} set exactly when it has active clients below it
 *       ({@link SortNode#inSet}); inactive subtrees are never walked.
 *   <li>Cached shares are computed against {@link #total}; when the total changes, {@link
 *       #resortIfTotalChanged} recomputes all of them once before the next cycle sorts.
 *   <li>While stage 1 runs, the roles below their guarantee are also kept, in DRF order, in the
 *       set {@link #sortHungry} returned; {@link #reposition} keeps it in step.
 * </ol>
 */
final class DrfSorter {

    private int width;
    /** The whole cluster; never sorted itself. */
    final RoleNode root;
    private final Map<String, RoleNode> roles = new HashMap<>();
    /** Weights for new roles, and which roles are kept while empty because they are configured. */
    private RoleConfig config = RoleConfig.EMPTY;

    /** Sum of every agent's pools: the denominator of shares. */
    private long[] total;
    private double[] invTotal;
    /** The total changed since shares were last computed; the next cycle re-sorts everything once. */
    private boolean totalChanged;

    /** Nodes whose allocation changed during the current agent's visit, re-sorted after it. */
    private final ArrayList<SortNode> touched = new ArrayList<>();
    private long stamp;
    /** Stage 1's roles below their guarantee, in DRF order; null outside stage 1. */
    private TreeSet<SortNode> hungry;

    DrfSorter(int width) {
        this.width = width;
        this.root = new RoleNode(null, "", width);
        this.total = new long[width];
        this.invTotal = new double[width];
    }

    // ------------------------------------------------------------------------------------------
    // The cluster total
    // ------------------------------------------------------------------------------------------

    /** Adds ({@code sign} 1) or takes away (-1) resources of the cluster; see {@link #totalChanged()}. */
    void addTotal(long[] v, int sign) {
        Vectors.addSigned(total, v, sign, width);
    }

    /** Marks every share stale: the next cycle recomputes them and re-sorts everything, once. */
    void totalChanged() {
        totalChanged = true;
    }

    /** The cluster total (read only). */
    long[] total() {
        return total;
    }

    // ------------------------------------------------------------------------------------------
    // Roles and clients
    // ------------------------------------------------------------------------------------------

    RoleConfig config() {
        return config;
    }

    /** Takes new weights and quotas; the caller updates the nodes the change names. */
    void setConfig(RoleConfig next) {
        config = next;
    }

    /** The role's node, or null when the sorter does not know it. */
    RoleNode role(String path) {
        return roles.get(path);
    }

    /** Every role but the root. */
    Collection<RoleNode> roles() {
        return roles.values();
    }

    int roleCount() {
        return roles.size();
    }

    /** The role's node, created (with its ancestors) when missing. */
    RoleNode roleNode(String path) {
        RoleNode n = roles.get(path);
        if (n != null) {
            return n;
        }
        int slash = path.lastIndexOf('/');
        RoleNode parent = slash < 0 ? root : roleNode(path.substring(0, slash));
        n = new RoleNode(parent, path, width);
        n.weight = config.weight(path);
        parent.children.put(path.substring(slash + 1), n);
        roles.put(path, n);
        n.share = shareOf(n);
        return n;
    }

    /** Forgets roles that hold nothing, are configured with nothing and have no clients or children. */
    void prune(RoleNode n) {
        while (n != null && !n.isRoot() && n.children.isEmpty() && n.own.clients.isEmpty() && n.activeClients == 0
                && !config.weights().containsKey(n.path) && !config.quotas().containsKey(n.path)
                && Vectors.isZero(n.reserved, width) && Vectors.isZero(n.allocated, width)) {
            removeFromSet(n);
            n.parent.children.remove(n.path.substring(n.path.lastIndexOf('/') + 1));
            roles.remove(n.path);
            n = n.parent;
        }
    }

    /** The framework's client in {@code role}, created (inactive) when missing. */
    FrameworkRoleNode client(FrameworkEntry fe, String role) {
        FrameworkRoleNode c = fe.clients.get(role);
        if (c == null) {
            RoleNode node = roleNode(role);
            c = new FrameworkRoleNode(fe, node, width);
            node.own.clients.put(fe.id.value(), c);
            fe.clients.put(role, c);
            c.share = shareOf(c);
        }
        return c;
    }

    /**
     * Brings every client's activity in line with its framework's connection, roles and
     * suppression; true when some client became active (it may take what nobody else could).
     */
    boolean sync(FrameworkEntry fe) {
        boolean activated = false;
        for (FrameworkRoleNode c : List.copyOf(fe.clients.values())) {
            boolean want = fe.wants(c.role.path);
            if (want != c.active) {
                setActive(c, want);
                activated |= want;
            }
            dropIfUnused(c);
        }
        return activated;
    }

    /** Forgets a client of a role its framework left once it holds nothing there. */
    void dropIfUnused(FrameworkRoleNode c) {
        if (!c.framework.roles.contains(c.role.path) && Vectors.isZero(c.allocated, width) && !c.framework.removed) {
            removeClient(c);
        }
    }

    /** Forgets a client and its DECLINE filters, and its role if that is now empty. */
    void removeClient(FrameworkRoleNode c) {
        if (c.active) {
            setActive(c, false);
        }
        c.clearRefusals();
        c.role.own.clients.remove(c.framework.id.value());
        c.framework.clients.remove(c.role.path);
        prune(c.role);
    }

    /** Activates or deactivates a client, and its leaf and ancestors when their active count crosses 0. */
    void setActive(FrameworkRoleNode c, boolean on) {
        c.active = on;
        OwnLeaf leaf = c.role.own;
        if (on) {
            addToSet(c);
            addToSet(leaf);
        } else {
            removeFromSet(c);
            if (leaf.active.isEmpty()) {
                removeFromSet(leaf);
            }
        }
        int d = on ? 1 : -1;
        for (RoleNode n = c.role; n != null; n = n.parent) {
            n.activeClients += d;
            if (!n.isRoot()) {
                if (n.activeClients > 0) {
                    addToSet(n);
                } else {
                    removeFromSet(n);
                }
            }
        }
    }

    /** Whether any client anywhere wants offers: when none does, a cycle has nothing to sort. */
    boolean anyActive() {
        return root.activeClients > 0;
    }

    /**
     * Adds ({@code sign} 1) or takes away (-1) a client's allocation on its whole chain; keys are
     * updated later, by {@link #repositionChain} or after the agent ({@link #applyTouched}).
     */
    void allocated(FrameworkRoleNode c, long[] s, boolean unreserved, int sign) {
        Vectors.addSigned(c.allocated, s, sign, width);
        Vectors.addSigned(c.role.own.allocated, s, sign, width);
        for (RoleNode n = c.role; n != null; n = n.parent) {
            Vectors.addSigned(n.allocated, s, sign, width);
            if (unreserved) {
                Vectors.addSigned(n.allocUnreserved, s, sign, width);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Sorting
    // ------------------------------------------------------------------------------------------

    /**
     * Takes the node out of its sorted sets, recomputes its key from its allocation and weight, and
     * puts it back: the only place a key changes.
     */
    void reposition(SortNode n) {
        TreeSet<SortNode> set = n.container();
        boolean wasHungry = n instanceof RoleNode r && r.inHungry;
        if (n.inSet) {
            set.remove(n);
        }
        if (wasHungry) {
            hungry.remove(n);
        }
        n.share = shareOf(n);
        n.allocations += n.pendingAllocations;
        n.pendingAllocations = 0;
        if (n.inSet) {
            set.add(n);
        }
        if (wasHungry) {
            RoleNode r = (RoleNode) n;
            if (r.isHungry(width)) {
                r.guaranteeMet = r.guaranteeMet(width);
                hungry.add(r);
            } else {
                r.inHungry = false;
            }
        }
    }

    /** Re-sorts a client, its leaf and its ancestors after its allocation changed outside a cycle. */
    void repositionChain(FrameworkRoleNode c) {
        reposition(c);
        reposition(c.role.own);
        for (RoleNode n = c.role; !n.isRoot(); n = n.parent) {
            reposition(n);
        }
    }

    /** Queues a client that was just allocated to, its leaf and its ancestors for {@link #applyTouched}. */
    void touch(FrameworkRoleNode c) {
        touchOne(c);
        touchOne(c.role.own);
        for (RoleNode n = c.role; !n.isRoot(); n = n.parent) {
            touchOne(n);
        }
    }

    private void touchOne(SortNode n) {
        n.pendingAllocations++;
        if (n.touchStamp != stamp) {
            n.touchStamp = stamp;
            touched.add(n);
        }
    }

    /** Re-sorts what the last agent's offers changed: O(log n) per client and ancestor touched. */
    void applyTouched() {
        for (int i = 0; i < touched.size(); i++) {
            reposition(touched.get(i));
        }
        touched.clear();
        stamp++;
    }

    /** Forgets what a cycle that stopped early had queued. */
    void clearTouched() {
        touched.clear();
    }

    /** Before a cycle: recomputes every share for a new cluster total and rebuilds the sorted sets. */
    void resortIfTotalChanged() {
        if (!totalChanged) {
            return;
        }
        for (int i = 0; i < width; i++) {
            invTotal[i] = total[i] > 0 ? 1.0 / total[i] : 0;
        }
        resort(root);
        totalChanged = false;
    }

    private void resort(RoleNode n) {
        for (RoleNode child : n.children.values()) {
            resort(child);
        }
        n.active.clear();
        if (n.own != null) {
            n.own.active.clear();
            for (FrameworkRoleNode c : n.own.clients.values()) {
                c.share = shareOf(c);
                if (c.inSet) {
                    n.own.active.add(c);
                }
            }
            n.own.share = shareOf(n.own);
            if (n.own.inSet) {
                n.active.add(n.own);
            }
        }
        for (RoleNode child : n.children.values()) {
            if (child.inSet) {
                n.active.add(child);
            }
        }
        n.share = n.isRoot() ? 0 : shareOf(n);
    }

    /**
     * Stage 1 starts: the roles below their guarantee (with clients that want offers), least met
     * guarantee first ({@link SortNode#HUNGRY_ORDER}). The set stays in step with their keys until
     * {@link #dropHungry}; a role leaves it once its guarantee is met.
     */
    TreeSet<SortNode> sortHungry() {
        hungry = new TreeSet<>(SortNode.HUNGRY_ORDER);
        for (RoleNode r : roles.values()) {
            if (r.isHungry(width)) {
                r.inHungry = true;
                r.guaranteeMet = r.guaranteeMet(width);
                hungry.add(r);
            }
        }
        return hungry;
    }

    /** Stage 1 is over. */
    void dropHungry() {
        hungry.forEach(h -> ((RoleNode) h).inHungry = false);
        hungry = null;
    }

    private double shareOf(SortNode n) {
        long[] a = n.allocated;
        double max = 0;
        for (int i = 0; i < width; i++) {
            double f = a[i] * invTotal[i];
            if (f > max) {
                max = f;
            }
        }
        return max / n.weight();
    }

    private void addToSet(SortNode n) {
        if (!n.inSet) {
            n.container().add(n);
            n.inSet = true;
        }
    }

    private void removeFromSet(SortNode n) {
        if (n.inSet) {
            n.container().remove(n);
            n.inSet = false;
        }
    }

    /** A new scalar name appeared: every vector grows to {@code w}. */
    void grow(int w) {
        width = w;
        total = Vectors.grow(total, w);
        invTotal = Arrays.copyOf(invTotal, w);
        root.grow(w);
        for (RoleNode n : roles.values()) {
            n.grow(w);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Views and checks
    // ------------------------------------------------------------------------------------------

    /** Every role the sorter knows (with clients, reservations, settings or children), by path. */
    List<RoleSummary> summaries(ScalarNames names) {
        double[] inv = new double[width];
        for (int i = 0; i < width; i++) {
            inv[i] = total[i] > 0 ? 1.0 / total[i] : 0;
        }
        List<RoleSummary> list = new ArrayList<>();
        for (String path : new TreeSet<>(roles.keySet())) {
            RoleNode n = roles.get(path);
            long[] consumed = new long[width];
            long[] unmet = new long[width];
            for (int r = 0; r < width; r++) {
                consumed[r] = n.consumption(r);
                if (n.guarantee != null && r < n.guarantee.length) {
                    unmet[r] = Math.max(0, n.guarantee[r] - consumed[r]);
                }
            }
            List<FrameworkId> fws = new ArrayList<>();
            for (FrameworkRoleNode c : n.own.clients.values()) {
                if (c.framework.roles.contains(path)) {
                    fws.add(c.framework.id);
                }
            }
            double dominant = 0;
            for (int i = 0; i < width; i++) {
                dominant = Math.max(dominant, n.allocated[i] * inv[i]);
            }
            list.add(new RoleSummary(path, n.weight, config.quota(path), names.toResources(n.allocated, width),
                    names.toResources(n.reserved, width), names.toResources(consumed, width), fws,
                    dominant / n.weight, names.toResources(unmet, width)));
        }
        return list;
    }

    /**
     * Recomputes the tree's sums and memberships from its clients and compares (O(everything)).
     *
     * @param reservedByRole each role's subtree reservations, summed from the agents' pools
     * @throws IllegalStateException naming the first difference
     */
    void checkInvariants(Map<String, long[]> reservedByRole) {
        checkNode(root, reservedByRole);
    }

    private long[] checkNode(RoleNode n, Map<String, long[]> reservedByRole) {
        long[] alloc = new long[width];
        int active = 0;
        for (RoleNode child : n.children.values()) {
            Vectors.add(alloc, checkNode(child, reservedByRole), width);
            active += child.activeClients;
            DrfAllocator.check(child.inSet == child.activeClients > 0 && n.active.contains(child) == child.inSet,
                    "set membership of role " + child.path);
        }
        if (n.own != null) {
            long[] own = new long[width];
            for (FrameworkRoleNode c : n.own.clients.values()) {
                Vectors.add(own, c.allocated, width);
                DrfAllocator.check(c.active == c.framework.wants(n.path) && c.inSet == c.active
                        && n.own.active.contains(c) == c.active, "client activity of " + c);
                active += c.active ? 1 : 0;
            }
            DrfAllocator.check(Arrays.equals(own, Arrays.copyOf(n.own.allocated, width)),
                    "own allocation of " + n.path);
            Vectors.add(alloc, own, width);
        }
        DrfAllocator.check(active == n.activeClients, "active clients of role " + n.path);
        DrfAllocator.check(Arrays.equals(alloc, Arrays.copyOf(n.allocated, width)), "allocation of role " + n.path);
        long[] reserved = reservedByRole.getOrDefault(n.path, new long[width]);
        DrfAllocator.check(n.isRoot() || Arrays.equals(reserved, Arrays.copyOf(n.reserved, width)),
                "reservations of role " + n.path);
        return alloc;
    }
}

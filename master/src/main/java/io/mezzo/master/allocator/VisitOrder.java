package io.mezzo.master.allocator;

/**
 * The order a cycle visits agents in: a permutation of agent slots drawn from the cycle's seed, so
 * that no agent is always first, and such that the place of one slot can be computed alone. A full
 * cycle walks every slot in this order ({@link #slotAt}); an incremental pass sorts the few agents
 * it visits by {@link #keyOf}. Both therefore visit any two agents in the same relative order, which
 * is what lets the incremental pass offer exactly what a full cycle would.
 *
 * <pre>
 *   domain  = [0, 2^bits), the smallest power of two holding every slot in use (at least 2)
 *   keyOf   = x ^ a, * m1, ^ (x >>> s), * m2, ^ (x >>> s), + b      (all mod 2^bits)
 *   slotAt  = the inverse, step by step (odd multipliers are invertible mod 2^bits, and so is a
 *             right xor-shift)
 *   a, b, m1, m2 (odd) from the seed through SplitMix64
 * </pre>
 *
 * <p>Not a cryptographic shuffle, and not uniform over all permutations as Fisher-Yates is: a
 * seeded mix in which the first slot, and every slot's place, changes with the seed. Immutable;
 * made per cycle by {@link AgentTable}. Thread: the master's event loop. Pure.
 */
final class VisitOrder {

    private final long mask;
    private final int shift;
    private final long a;
    private final long b;
    private final long m1;
    private final long m2;
    private final long inv1;
    private final long inv2;

    /**
     * @param seed the cycle's seed
     * @param slots how many slots are in use (their numbers are below it)
     */
    VisitOrder(long seed, int slots) {
        int bits = Math.max(1, 64 - Long.numberOfLeadingZeros(Math.max(1, slots - 1)));
        this.mask = bits >= 63 ? Long.MAX_VALUE : (1L << bits) - 1;
        this.shift = Math.max(1, (bits + 1) / 2);
        long s = seed;
        this.a = splitMix(s += 0x9E3779B97F4A7C15L) & mask;
        this.b = splitMix(s += 0x9E3779B97F4A7C15L) & mask;
        this.m1 = splitMix(s += 0x9E3779B97F4A7C15L) | 1;
        this.m2 = splitMix(s + 0x9E3779B97F4A7C15L) | 1;
        this.inv1 = inverse(m1);
        this.inv2 = inverse(m2);
    }

    /** How many places the order has: every slot below it is visited at exactly one place. */
    long size() {
        return mask + 1;
    }

    /** The place of a slot in the order (lower is visited first). */
    long keyOf(int slot) {
        long x = (slot ^ a) & mask;
        x = (x * m1) & mask;
        x ^= x >>> shift;
        x = (x * m2) & mask;
        x ^= x >>> shift;
        return (x + b) & mask;
    }

    /** The slot at a place: the inverse of {@link #keyOf}. */
    int slotAt(long place) {
        long y = (place - b) & mask;
        y = unshift(y);
        y = (y * inv2) & mask;
        y = unshift(y);
        y = (y * inv1) & mask;
        return (int) ((y ^ a) & mask);
    }

    /** Undoes {@code x ^= x >>> shift} on values below 2^bits. */
    private long unshift(long y) {
        long x = y;
        for (long t = y >>> shift; t != 0; t >>>= shift) {
            x ^= t;
        }
        return x;
    }

    /** The inverse of an odd number modulo 2^64 (Newton's iteration doubles the good bits). */
    private static long inverse(long odd) {
        long x = odd;
        for (int i = 0; i < 5; i++) {
            x *= 2 - odd * x;
        }
        return x;
    }

    private static long splitMix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

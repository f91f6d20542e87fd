package io.mezzo.common.resources;

import io.mezzo.proto.v1.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable set of non-negative integers stored as sorted, disjoint, non-adjacent inclusive
 * ranges, e.g. ports {@code [31000-31999]}.
 */
public final class RangeSet {

    /** The empty set. */
    public static final RangeSet EMPTY = new RangeSet(new long[0], new long[0]);

    // Parallel arrays: range i is [begins[i], ends[i]]; sorted, disjoint, not adjacent.
    private final long[] begins;
    private final long[] ends;

    private RangeSet(long[] begins, long[] ends) {
        this.begins = begins;
        this.ends = ends;
    }

    /** The single range [begin, end]. */
    public static RangeSet of(long begin, long end) {
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("invalid range [" + begin + "-" + end + "]");
        }
        return new RangeSet(new long[] {begin}, new long[] {end});
    }

    /** Normalises any list of ranges (overlapping or unsorted ones are merged). */
    public static RangeSet of(List<long[]> ranges) {
        List<long[]> sorted = new ArrayList<>(ranges.size());
        for (long[] r : ranges) {
            if (r[0] < 0 || r[1] < r[0]) {
                throw new IllegalArgumentException("invalid range [" + r[0] + "-" + r[1] + "]");
            }
            sorted.add(r);
        }
        sorted.sort(Comparator.comparingLong(r -> r[0]));
        long[] b = new long[sorted.size()];
        long[] e = new long[sorted.size()];
        int n = 0;
        for (long[] r : sorted) {
            if (n > 0 && r[0] <= e[n - 1] + 1) {
                e[n - 1] = Math.max(e[n - 1], r[1]);
            } else {
                b[n] = r[0];
                e[n] = r[1];
                n++;
            }
        }
        return new RangeSet(Arrays.copyOf(b, n), Arrays.copyOf(e, n));
    }

    /** Converts from the protocol; ranges with end before begin are rejected. */
    public static RangeSet fromProto(Value.Ranges proto) {
        List<long[]> list = new ArrayList<>(proto.getRangeCount());
        for (Value.Range r : proto.getRangeList()) {
            list.add(new long[] {r.getBegin(), r.getEnd()});
        }
        return of(list);
    }

    /** The protocol form. */
    public Value.Ranges toProto() {
        Value.Ranges.Builder b = Value.Ranges.newBuilder();
        for (int i = 0; i < begins.length; i++) {
            b.addRange(Value.Range.newBuilder().setBegin(begins[i]).setEnd(ends[i]));
        }
        return b.build();
    }

    /** True when the set holds no number. */
    public boolean isEmpty() {
        return begins.length == 0;
    }

    /** How many numbers the set holds. */
    public long size() {
        long n = 0;
        for (int i = 0; i < begins.length; i++) {
            n += ends[i] - begins[i] + 1;
        }
        return n;
    }

    /** Number of disjoint ranges. */
    public int rangeCount() {
        return begins.length;
    }

    /** Union. */
    public RangeSet plus(RangeSet other) {
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        List<long[]> all = new ArrayList<>(begins.length + other.begins.length);
        addTo(all);
        other.addTo(all);
        return of(all);
    }

    /** Difference: the numbers of this set that are not in {@code other}. */
    public RangeSet minus(RangeSet other) {
        if (other.isEmpty() || isEmpty()) {
            return this;
        }
        List<long[]> out = new ArrayList<>();
        int j = 0;
        for (int i = 0; i < begins.length; i++) {
            long b = begins[i];
            long e = ends[i];
            while (j < other.begins.length && other.ends[j] < b) {
                j++;
            }
            int k = j;
            while (b <= e && k < other.begins.length && other.begins[k] <= e) {
                if (other.begins[k] > b) {
                    out.add(new long[] {b, other.begins[k] - 1});
                }
                b = Math.max(b, other.ends[k] + 1);
                k++;
            }
            if (b <= e) {
                out.add(new long[] {b, e});
            }
        }
        return of(out);
    }

    /** True when every number of {@code other} is in this set. */
    public boolean contains(RangeSet other) {
        int i = 0;
        for (int j = 0; j < other.begins.length; j++) {
            while (i < begins.length && ends[i] < other.begins[j]) {
                i++;
            }
            if (i == begins.length || begins[i] > other.begins[j] || ends[i] < other.ends[j]) {
                return false;
            }
        }
        return true;
    }

    /** The first {@code count} numbers of the set, or fewer if it is smaller. */
    public RangeSet first(long count) {
        List<long[]> out = new ArrayList<>();
        long left = count;
        for (int i = 0; i < begins.length && left > 0; i++) {
            long take = Math.min(left, ends[i] - begins[i] + 1);
            out.add(new long[] {begins[i], begins[i] + take - 1});
            left -= take;
        }
        return of(out);
    }

    private void addTo(List<long[]> list) {
        for (int i = 0; i < begins.length; i++) {
            list.add(new long[] {begins[i], ends[i]});
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RangeSet r && Arrays.equals(begins, r.begins) && Arrays.equals(ends, r.ends);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(begins) + Arrays.hashCode(ends);
    }

    /** Mesos text form, e.g. {@code [31000-31005, 31010-31010]}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < begins.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(begins[i]).append('-').append(ends[i]);
        }
        return sb.append(']').toString();
    }
}

package io.mezzo.common.resources;

import io.mezzo.proto.v1.AllocationInfo;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.Value;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * An immutable bag of resources: scalars in fixed-point thousandths, ranges and sets, each keyed by
 * name and reservation. Arithmetic is exact. Amounts are never negative: {@link #minus} refuses to
 * take away what is not there.
 *
 * <p>Allocation info (the role an offer was made to) is not part of the value; it is set when the
 * resources are turned into protocol messages with {@link #toProto(String)}.
 */
public final class Resources {

    /** No resources. */
    public static final Resources EMPTY = new Resources(Map.of(), Map.of(), Map.of());

    /** Standard resource names. */
    public static final String CPUS = "cpus";
    /** Memory in MB. */
    public static final String MEM = "mem";
    /** Disk in MB. */
    public static final String DISK = "disk";
    /** Port ranges. */
    public static final String PORTS = "ports";

    /**
     * Identifies a resource within a bag: its name and its reservation ({@code null} when
     * unreserved).
     */
    public record Key(String name, ReservationInfo reservation) {
        /** Checks the name. */
        public Key {
            Objects.requireNonNull(name, "name");
        }

        /** The role this key's resource may be used by: the reservation's role, or "*". */
        public String role() {
            return reservation == null ? "*" : reservation.getRole();
        }

        /** True when unreserved. */
        public boolean unreserved() {
            return reservation == null;
        }
    }

    private static final Comparator<Key> KEY_ORDER =
            Comparator.comparing(Key::name).thenComparing(k -> k.reservation == null ? "" : k.reservation.toString());

    private final Map<Key, Long> scalars;
    private final Map<Key, RangeSet> ranges;
    private final Map<Key, SortedSet<String>> sets;

    private Resources(Map<Key, Long> scalars, Map<Key, RangeSet> ranges, Map<Key, SortedSet<String>> sets) {
        this.scalars = scalars;
        this.ranges = ranges;
        this.sets = sets;
    }

    /** A builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Unreserved scalars given as name/thousandths pairs, e.g. {@code scalars("cpus", 1000)}. */
    public static Resources scalars(Object... nameMilliPairs) {
        Builder b = builder();
        for (int i = 0; i < nameMilliPairs.length; i += 2) {
            b.scalar((String) nameMilliPairs[i], ((Number) nameMilliPairs[i + 1]).longValue());
        }
        return b.build();
    }

    /**
     * Converts from the protocol. Resources must already have passed {@link
     * ResourceValidation#validate}; this throws {@link IllegalArgumentException} otherwise.
     */
    public static Resources fromProto(List<Resource> list) {
        Builder b = builder();
        for (Resource r : list) {
            String error = ResourceValidation.validateOne(r);
            if (error != null) {
                throw new IllegalArgumentException(error);
            }
            ReservationInfo reservation = r.hasReservation() ? r.getReservation() : null;
            switch (r.getType()) {
                case SCALAR -> b.scalar(r.getName(), reservation, r.getScalar().getMilli());
                case RANGES -> b.ranges(r.getName(), reservation, RangeSet.fromProto(r.getRanges()));
                case SET -> b.set(r.getName(), reservation, r.getSet().getItemList());
                default -> throw new IllegalArgumentException("resource '" + r.getName() + "' has no type");
            }
        }
        return b.build();
    }

    /** The protocol form, without allocation info. */
    public List<Resource> toProto() {
        return toProto(null);
    }

    /** The protocol form, with allocation info set to {@code allocationRole} when not null. */
    public List<Resource> toProto(String allocationRole) {
        List<Resource> out = new ArrayList<>();
        for (Key k : sortedKeys()) {
            Resource.Builder r = Resource.newBuilder().setName(k.name());
            if (k.reservation() != null) {
                r.setReservation(k.reservation());
            }
            if (allocationRole != null) {
                r.setAllocationInfo(AllocationInfo.newBuilder().setRole(allocationRole));
            }
            if (scalars.containsKey(k)) {
                r.setType(Value.Type.SCALAR).setScalar(Value.Scalar.newBuilder().setMilli(scalars.get(k)));
            } else if (ranges.containsKey(k)) {
                r.setType(Value.Type.RANGES).setRanges(ranges.get(k).toProto());
            } else {
                r.setType(Value.Type.SET).setSet(Value.Set.newBuilder().addAllItem(sets.get(k)));
            }
            out.add(r.build());
        }
        return out;
    }

    /** True when there is nothing in the bag. */
    public boolean isEmpty() {
        return scalars.isEmpty() && ranges.isEmpty() && sets.isEmpty();
    }

    /** Total thousandths of the scalar {@code name}, over all reservations. */
    public long scalar(String name) {
        long sum = 0;
        for (Map.Entry<Key, Long> e : scalars.entrySet()) {
            if (e.getKey().name().equals(name)) {
                sum += e.getValue();
            }
        }
        return sum;
    }

    /** Thousandths of the scalar with exactly this key, or 0. */
    public long scalar(Key key) {
        return scalars.getOrDefault(key, 0L);
    }

    /** All numbers of the range resource {@code name}, over all reservations. */
    public RangeSet ranges(String name) {
        RangeSet out = RangeSet.EMPTY;
        for (Map.Entry<Key, RangeSet> e : ranges.entrySet()) {
            if (e.getKey().name().equals(name)) {
                out = out.plus(e.getValue());
            }
        }
        return out;
    }

    /** The names of scalar resources present. */
    public SortedSet<String> scalarNames() {
        SortedSet<String> names = new TreeSet<>();
        scalars.keySet().forEach(k -> names.add(k.name()));
        return names;
    }

    /** Every key present. */
    public List<Key> keys() {
        return sortedKeys();
    }

    /** The union (sum) of two bags. */
    public Resources plus(Resources other) {
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        Builder b = toBuilder();
        other.scalars.forEach(b::scalar);
        other.ranges.forEach(b::ranges);
        other.sets.forEach(b::set);
        return b.build();
    }

    /**
     * The scalar sum of two bags that never overflows: an amount past 2^63-1 thousandths stays at
     * 2^63-1. For displayed totals (a cluster's sums), never for bookkeeping.
     */
    public Resources plusScalarsCapped(Resources other) {
        Map<Key, Long> s = new TreeMap<>(KEY_ORDER);
        s.putAll(scalars);
        other.scalars.forEach((k, v) -> s.merge(k, v, (a, b) -> a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b));
        return new Resources(Map.copyOf(s), Map.of(), Map.of());
    }

    /**
     * What is left when {@code other} is taken away.
     *
     * @throws IllegalArgumentException if this bag does not contain {@code other}
     */
    public Resources minus(Resources other) {
        if (other.isEmpty()) {
            return this;
        }
        if (!contains(other)) {
            throw new IllegalArgumentException("cannot subtract " + other + " from " + this);
        }
        Map<Key, Long> s = new LinkedHashMap<>(scalars);
        other.scalars.forEach((k, v) -> {
            long left = s.get(k) - v;
            if (left == 0) {
                s.remove(k);
            } else {
                s.put(k, left);
            }
        });
        Map<Key, RangeSet> r = new LinkedHashMap<>(ranges);
        other.ranges.forEach((k, v) -> {
            RangeSet left = r.get(k).minus(v);
            if (left.isEmpty()) {
                r.remove(k);
            } else {
                r.put(k, left);
            }
        });
        Map<Key, SortedSet<String>> st = new LinkedHashMap<>(sets);
        other.sets.forEach((k, v) -> {
            SortedSet<String> left = new TreeSet<>(st.get(k));
            left.removeAll(v);
            if (left.isEmpty()) {
                st.remove(k);
            } else {
                st.put(k, Collections.unmodifiableSortedSet(left));
            }
        });
        return new Resources(Map.copyOf(s), Map.copyOf(r), Map.copyOf(st));
    }

    /** The resources both bags hold (same name and reservation): the smaller amount, the common ranges and items. */
    public Resources intersection(Resources other) {
        Builder b = builder();
        scalars.forEach((k, v) -> {
            Long o = other.scalars.get(k);
            if (o != null) {
                b.scalar(k, Math.min(v, o));
            }
        });
        ranges.forEach((k, v) -> {
            RangeSet o = other.ranges.get(k);
            if (o != null) {
                b.ranges(k, v.minus(v.minus(o)));
            }
        });
        sets.forEach((k, v) -> {
            SortedSet<String> o = other.sets.get(k);
            if (o != null) {
                SortedSet<String> common = new TreeSet<>(v);
                common.retainAll(o);
                b.set(k, common);
            }
        });
        return b.build();
    }

    /** What is left when whatever of {@code other} this bag holds is taken away; unlike {@link #minus}, never fails. */
    public Resources minusPresent(Resources other) {
        return other.isEmpty() ? this : minus(intersection(other));
    }

    /** True when every resource of {@code other} (same name and reservation) is in this bag. */
    public boolean contains(Resources other) {
        for (Map.Entry<Key, Long> e : other.scalars.entrySet()) {
            if (scalars.getOrDefault(e.getKey(), 0L) < e.getValue()) {
                return false;
            }
        }
        for (Map.Entry<Key, RangeSet> e : other.ranges.entrySet()) {
            RangeSet mine = ranges.get(e.getKey());
            if (mine == null || !mine.contains(e.getValue())) {
                return false;
            }
        }
        for (Map.Entry<Key, SortedSet<String>> e : other.sets.entrySet()) {
            SortedSet<String> mine = sets.get(e.getKey());
            if (mine == null || !mine.containsAll(e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** The resources whose key matches. */
    public Resources filter(Predicate<Key> keep) {
        Builder b = builder();
        scalars.forEach((k, v) -> {
            if (keep.test(k)) {
                b.scalar(k, v);
            }
        });
        ranges.forEach((k, v) -> {
            if (keep.test(k)) {
                b.ranges(k, v);
            }
        });
        sets.forEach((k, v) -> {
            if (keep.test(k)) {
                b.set(k, v);
            }
        });
        return b.build();
    }

    /** Only the unreserved resources. */
    public Resources unreserved() {
        return filter(Key::unreserved);
    }

    /**
     * The same amounts with every reservation taken off: what a RESERVE consumes and an UNRESERVE
     * gives back. {@code cpus(eng):2;cpus:1} becomes {@code cpus:3}.
     */
    public Resources withoutReservations() {
        Builder b = builder();
        scalars.forEach((k, v) -> b.scalar(k.name(), v));
        ranges.forEach((k, v) -> b.ranges(k.name(), v));
        sets.forEach((k, v) -> b.set(k.name(), null, v));
        return b.build();
    }

    /** Only the resources reserved (statically or dynamically) for exactly {@code role}. */
    public Resources reservedFor(String role) {
        return filter(k -> k.reservation() != null && k.reservation().getRole().equals(role));
    }

    /** Only the scalar resources. */
    public Resources scalarsOnly() {
        return new Resources(scalars, Map.of(), Map.of());
    }

    /** A builder holding this bag's contents. */
    public Builder toBuilder() {
        Builder b = builder();
        scalars.forEach(b::scalar);
        ranges.forEach(b::ranges);
        sets.forEach(b::set);
        return b;
    }

    private List<Key> sortedKeys() {
        List<Key> keys = new ArrayList<>(scalars.size() + ranges.size() + sets.size());
        keys.addAll(scalars.keySet());
        keys.addAll(ranges.keySet());
        keys.addAll(sets.keySet());
        keys.sort(KEY_ORDER);
        return keys;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Resources r && scalars.equals(r.scalars) && ranges.equals(r.ranges) && sets.equals(r.sets);
    }

    @Override
    public int hashCode() {
        return Objects.hash(scalars, ranges, sets);
    }

    /** Mesos text form, e.g. {@code cpus:1.5;mem:1024;ports:[31000-31999];cpus(eng):2}. */
    @Override
    public String toString() {
        if (isEmpty()) {
            return "{}";
        }
        StringBuilder sb = new StringBuilder();
        for (Key k : sortedKeys()) {
            if (sb.length() > 0) {
                sb.append(';');
            }
            sb.append(k.name());
            if (k.reservation() != null) {
                sb.append('(').append(k.reservation().getRole()).append(')');
            }
            sb.append(':');
            if (scalars.containsKey(k)) {
                sb.append(Scalars.format(scalars.get(k)));
            } else if (ranges.containsKey(k)) {
                sb.append(ranges.get(k));
            } else {
                sb.append('{').append(String.join(",", sets.get(k))).append('}');
            }
        }
        return sb.toString();
    }

    /** Accumulates resources; adding the same key twice sums it. */
    public static final class Builder {
        private final Map<Key, Long> scalars = new TreeMap<>(KEY_ORDER);
        private final Map<Key, RangeSet> ranges = new TreeMap<>(KEY_ORDER);
        private final Map<Key, SortedSet<String>> sets = new TreeMap<>(KEY_ORDER);

        private Builder() {}

        /** Adds unreserved thousandths of {@code name}. */
        public Builder scalar(String name, long milli) {
            return scalar(new Key(name, null), milli);
        }

        /** Adds thousandths of {@code name} with a reservation (null for none). */
        public Builder scalar(String name, ReservationInfo reservation, long milli) {
            return scalar(new Key(name, reservation), milli);
        }

        /** Adds thousandths under a key. */
        public Builder scalar(Key key, long milli) {
            if (milli < 0) {
                throw new IllegalArgumentException("negative amount of " + key.name() + ": " + milli);
            }
            if (milli > 0) {
                scalars.merge(key, milli, Math::addExact);
            }
            return this;
        }

        /** Adds unreserved ranges of {@code name}. */
        public Builder ranges(String name, RangeSet value) {
            return ranges(new Key(name, null), value);
        }

        /** Adds ranges of {@code name} with a reservation (null for none). */
        public Builder ranges(String name, ReservationInfo reservation, RangeSet value) {
            return ranges(new Key(name, reservation), value);
        }

        /** Adds ranges under a key. */
        public Builder ranges(Key key, RangeSet value) {
            if (!value.isEmpty()) {
                ranges.merge(key, value, RangeSet::plus);
            }
            return this;
        }

        /** Adds set items of {@code name} with a reservation (null for none). */
        public Builder set(String name, ReservationInfo reservation, Iterable<String> items) {
            return set(new Key(name, reservation), items);
        }

        /** Adds set items under a key. */
        public Builder set(Key key, Iterable<String> items) {
            SortedSet<String> s = sets.computeIfAbsent(key, k -> new TreeSet<>());
            items.forEach(s::add);
            if (s.isEmpty()) {
                sets.remove(key);
            }
            return this;
        }

        /** Adds every resource of a bag. */
        public Builder add(Resources other) {
            other.scalars.forEach(this::scalar);
            other.ranges.forEach(this::ranges);
            other.sets.forEach(this::set);
            return this;
        }

        /** The bag. */
        public Resources build() {
            Map<Key, SortedSet<String>> frozenSets = new LinkedHashMap<>();
            sets.forEach((k, v) -> frozenSets.put(k, Collections.unmodifiableSortedSet(new TreeSet<>(v))));
            return new Resources(Map.copyOf(scalars), Map.copyOf(ranges), Map.copyOf(frozenSets));
        }
    }
}

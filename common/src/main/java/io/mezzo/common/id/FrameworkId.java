package io.mezzo.common.id;

import io.mezzo.proto.v1.FrameworkID;

/**
 * Typed framework id, so that it cannot be confused with another kind of id. {@code toString} is the
 * bare value, as it appears in log lines.
 */
public record FrameworkId(String value) implements Comparable<FrameworkId> {

    /** Rejects null and empty values. */
    public FrameworkId {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("framework id must not be empty");
        }
    }

    /** Wraps a protocol id; throws if it is empty. */
    public static FrameworkId of(FrameworkID proto) {
        return new FrameworkId(proto.getValue());
    }

    /** Wraps a string id; throws if it is empty. */
    public static FrameworkId of(String value) {
        return new FrameworkId(value);
    }

    /** The protocol form. */
    public FrameworkID toProto() {
        return FrameworkID.newBuilder().setValue(value).build();
    }

    @Override
    public int compareTo(FrameworkId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

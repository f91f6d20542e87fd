package io.mezzo.common.id;

import io.mezzo.proto.v1.ExecutorID;

/**
 * Typed executor id, so that it cannot be confused with another kind of id. {@code toString} is the
 * bare value, as it appears in log lines.
 */
public record ExecutorId(String value) implements Comparable<ExecutorId> {

    /** Rejects null and empty values. */
    public ExecutorId {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("executor id must not be empty");
        }
    }

    /** Wraps a protocol id; throws if it is empty. */
    public static ExecutorId of(ExecutorID proto) {
        return new ExecutorId(proto.getValue());
    }

    /** Wraps a string id; throws if it is empty. */
    public static ExecutorId of(String value) {
        return new ExecutorId(value);
    }

    /** The protocol form. */
    public ExecutorID toProto() {
        return ExecutorID.newBuilder().setValue(value).build();
    }

    @Override
    public int compareTo(ExecutorId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

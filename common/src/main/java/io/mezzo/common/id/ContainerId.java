package io.mezzo.common.id;

import io.mezzo.proto.v1.ContainerID;

/**
 * Typed container id, so that it cannot be confused with another kind of id. {@code toString} is the
 * bare value, as it appears in log lines.
 */
public record ContainerId(String value) implements Comparable<ContainerId> {

    /** Rejects null and empty values. */
    public ContainerId {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("container id must not be empty");
        }
    }

    /** Wraps a protocol id; throws if it is empty. */
    public static ContainerId of(ContainerID proto) {
        return new ContainerId(proto.getValue());
    }

    /** Wraps a string id; throws if it is empty. */
    public static ContainerId of(String value) {
        return new ContainerId(value);
    }

    /** The protocol form. */
    public ContainerID toProto() {
        return ContainerID.newBuilder().setValue(value).build();
    }

    @Override
    public int compareTo(ContainerId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

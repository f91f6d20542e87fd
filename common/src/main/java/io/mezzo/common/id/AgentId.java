package io.mezzo.common.id;

import io.mezzo.proto.v1.AgentID;

/**
 * Typed agent id, so that it cannot be confused with another kind of id. {@code toString} is the
 * bare value, as it appears in log lines.
 */
public record AgentId(String value) implements Comparable<AgentId> {

    /** Rejects null and empty values. */
    public AgentId {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("agent id must not be empty");
        }
    }

    /** Wraps a protocol id; throws if it is empty. */
    public static AgentId of(AgentID proto) {
        return new AgentId(proto.getValue());
    }

    /** Wraps a string id; throws if it is empty. */
    public static AgentId of(String value) {
        return new AgentId(value);
    }

    /** The protocol form. */
    public AgentID toProto() {
        return AgentID.newBuilder().setValue(value).build();
    }

    @Override
    public int compareTo(AgentId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

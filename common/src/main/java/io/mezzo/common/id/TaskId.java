package io.mezzo.common.id;

import io.mezzo.proto.v1.TaskID;

/**
 * Typed task id, so that it cannot be confused with another kind of id. {@code toString} is the
 * bare value, as it appears in log lines.
 */
public record TaskId(String value) implements Comparable<TaskId> {

    /** Rejects null and empty values. */
    public TaskId {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("task id must not be empty");
        }
    }

    /** Wraps a protocol id; throws if it is empty. */
    public static TaskId of(TaskID proto) {
        return new TaskId(proto.getValue());
    }

    /** Wraps a string id; throws if it is empty. */
    public static TaskId of(String value) {
        return new TaskId(value);
    }

    /** The protocol form. */
    public TaskID toProto() {
        return TaskID.newBuilder().setValue(value).build();
    }

    @Override
    public int compareTo(TaskId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

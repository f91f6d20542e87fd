package io.mezzo.common.id;

import io.mezzo.proto.v1.OfferID;

/**
 * Typed offer id, so that it cannot be confused with another kind of id. {@code toString} is the
 * bare value, as it appears in log lines.
 */
public record OfferId(String value) implements Comparable<OfferId> {

    /** Rejects null and empty values. */
    public OfferId {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("offer id must not be empty");
        }
    }

    /** Wraps a protocol id; throws if it is empty. */
    public static OfferId of(OfferID proto) {
        return new OfferId(proto.getValue());
    }

    /** Wraps a string id; throws if it is empty. */
    public static OfferId of(String value) {
        return new OfferId(value);
    }

    /** The protocol form. */
    public OfferID toProto() {
        return OfferID.newBuilder().setValue(value).build();
    }

    @Override
    public int compareTo(OfferId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}

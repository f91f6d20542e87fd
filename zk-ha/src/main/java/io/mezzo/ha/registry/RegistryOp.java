package io.mezzo.ha.registry;

import java.util.Objects;

/**
 * One change to the registry: put (create or replace) or delete one record.
 *
 * @param collection e.g. "agents"; letters, digits and '-' only
 * @param key the record's key within the collection (any string; encoded for storage)
 * @param value the record's bytes; null for a delete
 */
public record RegistryOp(String collection, String key, byte[] value) {

    /** Checks the collection name and key. */
    public RegistryOp {
        Objects.requireNonNull(key, "key");
        if (collection == null || !collection.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException("invalid registry collection '" + collection + "'");
        }
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty registry key in " + collection);
        }
    }

    /** Creates or replaces a record. */
    public static RegistryOp put(String collection, String key, byte[] value) {
        return new RegistryOp(collection, key, Objects.requireNonNull(value, "value"));
    }

    /** Deletes a record (no-op if absent). */
    public static RegistryOp delete(String collection, String key) {
        return new RegistryOp(collection, key, null);
    }

    /** True for a delete. */
    public boolean isDelete() {
        return value == null;
    }

    @Override
    public String toString() {
        return (isDelete() ? "delete " : "put ") + collection + "/" + key;
    }
}

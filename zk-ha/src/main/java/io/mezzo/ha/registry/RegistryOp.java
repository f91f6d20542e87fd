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

    /** Largest record value any registry accepts (ZooKeeper's znodes hold at most 1 MB). */
    public static final int MAX_VALUE_BYTES = 256 * 1024;
    /** Longest key any registry accepts. */
    public static final int MAX_KEY_LENGTH = 1024;

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

    /**
     * Null when every registry can hold this record, else why not: a value over {@link
     * #MAX_VALUE_BYTES}, a key over {@link #MAX_KEY_LENGTH} characters, or a key "." or ".."
     * (which stay path segments after encoding). Writes with such a record fail as a whole with
     * {@link RecordRejectedException} before anything is written.
     */
    public String problem() {
        String shown = key.length() > 64 ? key.substring(0, 64) + "...[" + (key.length() - 64) + " more characters]" : key;
        if (key.equals(".") || key.equals("..")) {
            return "registry key " + collection + "/" + key + " is not a valid record name";
        }
        if (key.length() > MAX_KEY_LENGTH) {
            return "registry key " + collection + "/" + shown + " has " + key.length() + " characters, over "
                    + MAX_KEY_LENGTH;
        }
        if (value != null && value.length > MAX_VALUE_BYTES) {
            return "record " + collection + "/" + shown + " has " + value.length + " bytes, over " + MAX_VALUE_BYTES;
        }
        return null;
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

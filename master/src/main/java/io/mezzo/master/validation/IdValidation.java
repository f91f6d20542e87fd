package io.mezzo.master.validation;

import io.mezzo.common.validation.Ids;

/**
 * Pure check of ids chosen by frameworks (task ids) and carried back to the master (framework
 * ids, agent ids): the one rule of {@link Ids}, shared with the agent. Any thread.
 */
public final class IdValidation {

    /** The longest id accepted. */
    public static final int MAX_LENGTH = Ids.MAX_LENGTH;

    private IdValidation() {}

    /**
     * True when {@code id} is non-empty, at most 255 characters of letters, digits and "._-:", and
     * not "." or ".." (ids become sandbox path segments and registry keys).
     */
    public static boolean isValid(String id) {
        return Ids.isValid(id);
    }

    /** Null when valid, else a sentence naming {@code field}. */
    public static String validate(String field, String id) {
        return Ids.validate(field, id);
    }
}

package io.mezzo.common.validation;

/**
 * The one id rule for every id a peer chooses or carries back: agent ids in REREGISTER, framework
 * ids in SUBSCRIBE, in agent reports and in calls, task ids, and ids given to operator calls. Ids
 * become sandbox path segments on the agents and registry keys on the master, so the rule is the
 * one both can hold: 1-255 letters, digits or "._-:", and not "." or "..". Pure; any thread.
 */
public final class Ids {

    /** The longest id accepted. */
    public static final int MAX_LENGTH = 255;

    private Ids() {}

    /** True when {@code id} follows the rule. */
    public static boolean isValid(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH || id.equals(".") || id.equals("..")) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-' || c == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Null when {@code id} follows the rule, else one sentence naming {@code field} and showing the
     * id (cut to {@link Limits#LOG_FIELD} characters).
     */
    public static String validate(String field, String id) {
        if (isValid(id)) {
            return null;
        }
        if (id == null || id.isEmpty()) {
            return field + " is empty";
        }
        return field + " '" + Limits.shown(id) + "' must be 1-" + MAX_LENGTH
                + " letters, digits or \"._-:\" and not '.' or '..'";
    }
}

package io.mezzo.master.validation;

/**
 * Pure check of ids chosen by frameworks (task ids) and carried back to the master (framework
 * ids): they become sandbox path segments on the agents. Any thread.
 */
public final class IdValidation {

    /** The longest id accepted. */
    public static final int MAX_LENGTH = 255;

    private IdValidation() {}

    /**
     * True when {@code id} is non-empty, at most 255 characters of letters, digits and "._-:", and
     * not "." or ".." (ids become sandbox path segments).
     */
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
}

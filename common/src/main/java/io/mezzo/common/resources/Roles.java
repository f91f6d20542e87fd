package io.mezzo.common.resources;

/**
 * Role names. A role is "*" (the default role, unreserved resources) or a path of segments separated
 * by '/', such as {@code eng} or {@code eng/web}.
 */
public final class Roles {

    /** The default role. */
    public static final String DEFAULT = "*";

    /** The longest role name accepted (docs/api.md, "Limits"). */
    public static final int MAX_LENGTH = 512;

    private Roles() {}

    /** Returns {@code null} when {@code role} is a valid role name, else what is wrong with it. */
    public static String validate(String role) {
        if (role == null || role.isEmpty()) {
            return "role name is empty";
        }
        if (role.equals(DEFAULT)) {
            return null;
        }
        if (role.length() > MAX_LENGTH) {
            return "role '" + role.substring(0, 64) + "...' has " + role.length() + " characters, more than the limit of "
                    + MAX_LENGTH;
        }
        if (role.startsWith("/") || role.endsWith("/")) {
            return "role '" + role + "' starts or ends with '/'";
        }
        for (String segment : role.split("/", -1)) {
            if (segment.isEmpty()) {
                return "role '" + role + "' has an empty segment";
            }
            if (segment.equals(".") || segment.equals("..")) {
                return "role '" + role + "' has a '" + segment + "' segment";
            }
            if (segment.startsWith("-")) {
                return "role '" + role + "' has a segment starting with '-'";
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (Character.isWhitespace(c) || Character.isISOControl(c) || c == '*' || c == '\\') {
                    return "role '" + role + "' contains a forbidden character (whitespace, '*' or '\\')";
                }
            }
        }
        return null;
    }

    /** True when {@code role} is {@code ancestor} or lies in its subtree. */
    public static boolean isSubroleOf(String role, String ancestor) {
        return role.equals(ancestor) || role.startsWith(ancestor + "/");
    }
}

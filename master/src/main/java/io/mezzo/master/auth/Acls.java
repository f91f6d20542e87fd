package io.mezzo.master.auth;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ACL file ({@code --acls}), with Mesos' semantics. For each {@link Action}, a list of rules
 * {@code {"principals": E, "<objects>": E}} where an entity E is {@code {"values": [...]}}, {@code
 * {"type": "ANY"}} or {@code {"type": "NONE"}} (objects only). A request (principal, action,
 * object) is decided by the first rule of its action whose principals and objects both match: it
 * is allowed unless that rule's objects are NONE (which matches every object). When no rule
 * matches, {@code "permissive"} decides (default true, as Mesos). A value ending in {@code /*}
 * matches every role below that prefix ({@code "eng/*"} matches {@code eng/web}). {@code ANY}
 * principals match anonymous callers too; listed values never do.
 *
 * <p>No file means {@link #PERMISSIVE}: everything is allowed (the {@code mezzo dev} setting).
 * Production sets {@code "permissive": false} and grants what each principal needs; see
 * docs/security.md. Immutable; any thread.
 */
public final class Acls {

    /** Everything allowed: no ACL file. */
    public static final Acls PERMISSIVE = new Acls(true, new EnumMap<>(Action.class), true);

    private final boolean permissive;
    private final Map<Action, List<Rule>> rules;
    private final boolean none;

    private Acls(boolean permissive, Map<Action, List<Rule>> rules, boolean none) {
        this.permissive = permissive;
        this.rules = rules;
        this.none = none;
    }

    /** One rule. */
    record Rule(Entity principals, Entity objects) {}

    /** An entity: ANY, NONE, or a set of values. */
    record Entity(Type type, Set<String> values) {
        enum Type { ANY, NONE, SOME }

        boolean matches(String value) {
            return switch (type) {
                case ANY, NONE -> true;
                case SOME -> value != null && !value.isEmpty() && (values.contains(value) || values.stream()
                        .anyMatch(v -> v.endsWith("/*") && value.startsWith(v.substring(0, v.length() - 1))));
            };
        }
    }

    /** Whether no ACL file was given (all is allowed, views are not filtered). */
    public boolean isPermissiveDefault() {
        return none;
    }

    /**
     * Null when {@code principal} (null for anonymous) may do {@code action} on {@code object};
     * otherwise the refusal, naming the principal, the action and the object.
     */
    public String deny(Action action, String principal, String object) {
        for (Rule r : rules.getOrDefault(action, List.of())) {
            boolean subject = r.principals().type() == Entity.Type.ANY
                    || (r.principals().type() == Entity.Type.SOME && r.principals().matches(principal));
            if (subject && r.objects().matches(object)) {
                return r.objects().type() == Entity.Type.NONE ? refusal(action, principal, object) : null;
            }
        }
        return permissive ? null : refusal(action, principal, object);
    }

    /** Whether {@code principal} may do {@code action} on {@code object}. */
    public boolean allows(Action action, String principal, String object) {
        return deny(action, principal, object) == null;
    }

    private static String refusal(Action action, String principal, String object) {
        return AuthContext.describe(principal) + " may not " + action.key() + " ("
                + action.objectKey() + " '" + object + "') per the ACLs";
    }

    /**
     * Reads and validates {@code file}.
     *
     * @throws IllegalArgumentException naming the file, the action and the rule that is wrong
     */
    public static Acls load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read ACL file " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses ACL JSON; {@code source} names it in errors. */
    public static Acls parse(String json, String source) {
        JsonObject root;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("ACL file " + source + " must hold a JSON object");
            }
            root = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("ACL file " + source + " is not valid JSON: " + e.getMessage(), e);
        }
        boolean permissive = true;
        Map<Action, List<Rule>> rules = new EnumMap<>(Action.class);
        for (Map.Entry<String, JsonElement> entry : root.entrySet()) {
            String key = entry.getKey();
            if (key.equals("permissive")) {
                JsonElement v = entry.getValue();
                if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
                    throw new IllegalArgumentException("ACL file " + source + ": \"permissive\" must be true or false");
                }
                permissive = v.getAsBoolean();
                continue;
            }
            Action action = actionOf(key, source);
            if (!entry.getValue().isJsonArray()) {
                throw new IllegalArgumentException("ACL file " + source + ": \"" + key + "\" must be a list of rules");
            }
            JsonArray list = entry.getValue().getAsJsonArray();
            List<Rule> parsed = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                String where = "ACL file " + source + ": " + key + "[" + i + "]";
                if (!list.get(i).isJsonObject()) {
                    throw new IllegalArgumentException(where + " must be an object");
                }
                JsonObject rule = list.get(i).getAsJsonObject();
                for (String k : rule.keySet()) {
                    if (!k.equals("principals") && !k.equals(action.objectKey())) {
                        throw new IllegalArgumentException(where + " has unknown key \"" + k + "\"; expected \"principals\" and \""
                                + action.objectKey() + "\"");
                    }
                }
                Entity principals = entity(rule.get("principals"), where + ".principals");
                if (principals.type() == Entity.Type.NONE) {
                    throw new IllegalArgumentException(where + ".principals cannot be NONE");
                }
                Entity objects = entity(rule.get(action.objectKey()), where + "." + action.objectKey());
                parsed.add(new Rule(principals, objects));
            }
            rules.put(action, List.copyOf(parsed));
        }
        return new Acls(permissive, rules, false);
    }

    private static Action actionOf(String key, String source) {
        for (Action a : Action.values()) {
            if (a.key().equals(key)) {
                return a;
            }
        }
        List<String> known = new ArrayList<>();
        for (Action a : Action.values()) {
            known.add(a.key());
        }
        throw new IllegalArgumentException("ACL file " + source + ": unknown action \"" + key + "\"; known: permissive, "
                + String.join(", ", known));
    }

    private static Entity entity(JsonElement e, String where) {
        if (e == null) {
            throw new IllegalArgumentException(where + " is missing (use {\"type\": \"ANY\"} for everyone)");
        }
        if (!e.isJsonObject()) {
            throw new IllegalArgumentException(where + " must be {\"values\": [...]} or {\"type\": \"ANY\"|\"NONE\"}");
        }
        JsonObject o = e.getAsJsonObject();
        if (o.has("type") && o.has("values")) {
            throw new IllegalArgumentException(where + " has both \"type\" and \"values\"");
        }
        if (o.has("type")) {
            String t = o.get("type").getAsString();
            return switch (t) {
                case "ANY" -> new Entity(Entity.Type.ANY, Set.of());
                case "NONE" -> new Entity(Entity.Type.NONE, Set.of());
                default -> throw new IllegalArgumentException(where + ".type must be ANY or NONE, got \"" + t + "\"");
            };
        }
        JsonElement values = o.get("values");
        if (values == null || !values.isJsonArray() || values.getAsJsonArray().isEmpty()) {
            throw new IllegalArgumentException(where + ".values must be a non-empty list of strings");
        }
        java.util.LinkedHashSet<String> set = new java.util.LinkedHashSet<>();
        for (JsonElement v : values.getAsJsonArray()) {
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isEmpty()) {
                throw new IllegalArgumentException(where + ".values must hold non-empty strings, got " + v);
            }
            set.add(v.getAsString());
        }
        return new Entity(Entity.Type.SOME, Set.copyOf(set));
    }
}

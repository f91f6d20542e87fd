package io.mezzo.services;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mezzo.services.ServiceDefinition.BackoffSpec;
import io.mezzo.services.ServiceDefinition.Constraint;
import io.mezzo.services.ServiceDefinition.HealthSpec;
import io.mezzo.services.ServiceDefinition.UpgradeStrategy;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Service definitions in JSON, both ways: {@link #parse} reads what an owner wrote, strictly (an
 * unknown field, a wrong type or an impossible value is refused with a message naming the field),
 * and {@link #write} gives the canonical form the store keeps and the API shows. Human units in,
 * exact thousandths inside: {@code "cpus": 0.5}, {@code "mem": "1.5GB"}, {@code "interval": "2s"}.
 *
 * <p>Pure and stateless; any thread.
 */
public final class DefinitionJson {

    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern ID = Pattern.compile("[a-z][a-z0-9-]{0,62}");
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)");
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private static final Set<String> TOP = Set.of("id", "cmd", "args", "instances", "cpus", "mem", "disk", "ports",
            "env", "fetch", "healthCheck", "constraints", "killGracePeriod", "role", "upgradeStrategy", "backoff");
    private static final Set<String> HEALTH = Set.of("type", "path", "portIndex", "command", "delay", "interval",
            "timeout", "gracePeriod", "maxConsecutiveFailures");
    private static final Set<String> UPGRADE = Set.of("maxParallel", "minHealthy", "maxSurge", "canaries",
            "autoPromoteAfter", "autoRevert", "progressDeadline");
    private static final Set<String> BACKOFF = Set.of("initial", "max", "crashLoopLimit");

    /** Most instances of one service. */
    static final int MAX_INSTANCES = 1000;
    /** Most ports per instance. */
    static final int MAX_PORTS = 16;

    private DefinitionJson() {}

    /**
     * Parses a definition.
     *
     * @throws InvalidDefinitionException naming the field that is wrong
     */
    public static ServiceDefinition parse(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidDefinitionException("not valid JSON: " + e.getOriginalMessage());
        }
        return parse(root);
    }

    /** Parses a definition from a JSON tree; see {@link #parse(String)}. */
    public static ServiceDefinition parse(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new InvalidDefinitionException("a service definition is a JSON object");
        }
        unknown(root, TOP, "");
        String id = text(root, "id", null);
        if (id == null) {
            throw new InvalidDefinitionException("id is required");
        }
        if (!ID.matcher(id).matches()) {
            throw new InvalidDefinitionException("id '" + id + "' must be 1 to 63 lowercase letters, digits and dashes,"
                    + " starting with a letter");
        }
        String cmd = text(root, "cmd", null);
        List<String> args = strings(root, "args");
        if ((cmd == null) == args.isEmpty()) {
            throw new InvalidDefinitionException("give exactly one of cmd (a shell command) and args (an argv list)");
        }
        if (cmd != null && cmd.isBlank()) {
            throw new InvalidDefinitionException("cmd is empty");
        }
        int instances = integer(root, "instances", 1, 0, MAX_INSTANCES);
        long cpus = cpus(root.get("cpus"));
        long mem = size(root.get("mem"), "mem", 128_000);
        long disk = size(root.get("disk"), "disk", 0);
        if (mem < 32_000) {
            throw new InvalidDefinitionException("mem must be at least 32MB");
        }
        int ports = integer(root, "ports", 0, 0, MAX_PORTS);
        Map<String, String> env = env(root.get("env"));
        List<String> fetch = strings(root, "fetch");
        for (String uri : fetch) {
            if (uri.isBlank()) {
                throw new InvalidDefinitionException("fetch: an empty URI");
            }
        }
        HealthSpec health = health(root.get("healthCheck"), ports);
        List<Constraint> constraints = constraints(root.get("constraints"));
        long grace = duration(root.get("killGracePeriod"), "killGracePeriod", 3_000);
        String role = text(root, "role", "*");
        if (role.isBlank() || role.contains("/") && (role.startsWith("/") || role.endsWith("/")) || role.contains(" ")) {
            throw new InvalidDefinitionException("role '" + role + "' is not a valid role name");
        }
        UpgradeStrategy upgrade = upgrade(root.get("upgradeStrategy"));
        BackoffSpec backoff = backoff(root.get("backoff"));
        return new ServiceDefinition(id, cmd, args, instances, cpus, mem, disk, ports, env, fetch, health, constraints,
                grace, role, upgrade, backoff);
    }

    /** The canonical JSON of a definition (human units; parses back to an equal definition). */
    public static ObjectNode write(ServiceDefinition d) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", d.id());
        if (d.cmd() != null) {
            o.put("cmd", d.cmd());
        } else {
            ArrayNode a = o.putArray("args");
            d.args().forEach(a::add);
        }
        o.put("instances", d.instances());
        o.put("cpus", BigDecimal.valueOf(d.cpusMilli(), 3).stripTrailingZeros());
        o.put("mem", megabytes(d.memMilli()));
        o.put("disk", megabytes(d.diskMilli()));
        o.put("ports", d.ports());
        ObjectNode env = o.putObject("env");
        new TreeMap<>(d.env()).forEach(env::put);
        ArrayNode fetch = o.putArray("fetch");
        d.fetch().forEach(fetch::add);
        if (d.healthCheck() != null) {
            HealthSpec h = d.healthCheck();
            ObjectNode hc = o.putObject("healthCheck");
            hc.put("type", h.type().name());
            if (h.type() == HealthSpec.Type.HTTP) {
                hc.put("path", h.path());
            }
            if (h.type() == HealthSpec.Type.COMMAND) {
                hc.put("command", h.command());
            } else {
                hc.put("portIndex", h.portIndex());
            }
            hc.put("delay", millis(h.delayMillis()));
            hc.put("interval", millis(h.intervalMillis()));
            hc.put("timeout", millis(h.timeoutMillis()));
            hc.put("gracePeriod", millis(h.gracePeriodMillis()));
            hc.put("maxConsecutiveFailures", h.consecutiveFailures());
        }
        ArrayNode cs = o.putArray("constraints");
        for (Constraint c : d.constraints()) {
            ArrayNode a = cs.addArray().add(c.field()).add(c.operator().name());
            if (c.value() != null) {
                a.add(c.value());
            }
        }
        o.put("killGracePeriod", millis(d.killGraceMillis()));
        o.put("role", d.role());
        UpgradeStrategy u = d.upgrade();
        ObjectNode us = o.putObject("upgradeStrategy");
        us.put("maxParallel", u.maxParallel());
        if (u.minHealthyCount() >= 0) {
            us.put("minHealthy", u.minHealthyCount());
        } else {
            us.put("minHealthy", BigDecimal.valueOf(Math.round(u.minHealthyFraction() * 100)) + "%");
        }
        us.put("maxSurge", u.maxSurge());
        us.put("canaries", u.canaries());
        if (u.autoPromoteAfterMillis() >= 0) {
            us.put("autoPromoteAfter", millis(u.autoPromoteAfterMillis()));
        }
        us.put("autoRevert", u.autoRevert());
        us.put("progressDeadline", millis(u.progressDeadlineMillis()));
        BackoffSpec b = d.backoff();
        ObjectNode bo = o.putObject("backoff");
        bo.put("initial", millis(b.initialMillis()));
        bo.put("max", millis(b.maxMillis()));
        bo.put("crashLoopLimit", b.crashLoopLimit());
        return o;
    }

    /** A duration as people write it: "1.5s", "300ms", "2m". */
    static String millis(long ms) {
        if (ms % 60_000 == 0 && ms >= 60_000) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** Thousandths of a MB as people write it: "64MB", "1.5GB". */
    static String megabytes(long milli) {
        BigDecimal mb = BigDecimal.valueOf(milli, 3).stripTrailingZeros();
        if (milli >= 1024_000 && milli % 256_000 == 0) {
            return BigDecimal.valueOf(milli).divide(BigDecimal.valueOf(1024_000)).stripTrailingZeros().toPlainString() + "GB";
        }
        return mb.toPlainString() + "MB";
    }

    private static void unknown(JsonNode node, Set<String> known, String prefix) {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new InvalidDefinitionException("unknown field '" + prefix + name + "'; known fields"
                        + (prefix.isEmpty() ? "" : " of " + prefix.substring(0, prefix.length() - 1)) + ": "
                        + String.join(", ", new java.util.TreeSet<>(known)));
            }
        }
    }

    private static String text(JsonNode parent, String field, String dflt) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw new InvalidDefinitionException(field + " must be a string");
        }
        return n.asText();
    }

    private static int integer(JsonNode parent, String field, int dflt, int min, int max) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
            throw new InvalidDefinitionException(field + " must be a whole number from " + min + " to " + max
                    + ", not " + n);
        }
        return n.asInt();
    }

    private static List<String> strings(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isArray()) {
            throw new InvalidDefinitionException(field + " must be a list of strings");
        }
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new InvalidDefinitionException(field + " must be a list of strings, not " + e);
            }
            out.add(e.asText());
        }
        return out;
    }

    private static long cpus(JsonNode n) {
        if (n == null || n.isNull()) {
            return 100;
        }
        BigDecimal v;
        try {
            v = n.isNumber() ? n.decimalValue() : new BigDecimal(n.asText().trim());
        } catch (NumberFormatException e) {
            throw new InvalidDefinitionException("cpus must be a number such as 0.5, not " + n);
        }
        BigDecimal milli = v.movePointRight(3);
        if (milli.signum() <= 0 || milli.stripTrailingZeros().scale() > 0 || milli.compareTo(BigDecimal.valueOf(1_000_000_000L)) > 0) {
            throw new InvalidDefinitionException("cpus must be positive with at most 3 decimals (0.001 steps), not " + n);
        }
        return milli.longValueExact();
    }

    /** A size in thousandths of a MB: a number is MB; a string may say KB, MB, GB, TB (binary). */
    static long size(JsonNode n, String field, long dflt) {
        if (n == null || n.isNull()) {
            return dflt;
        }
        BigDecimal mb;
        if (n.isNumber()) {
            mb = n.decimalValue();
        } else if (n.isTextual()) {
            Matcher m = SIZE.matcher(n.asText().trim());
            if (!m.matches()) {
                throw new InvalidDefinitionException(field + " must be a size such as 512MB or 1.5GB, not " + n);
            }
            BigDecimal v = new BigDecimal(m.group(1));
            mb = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "", "M", "MB", "MIB" -> v;
                case "K", "KB", "KIB" -> v.divide(BigDecimal.valueOf(1024));
                case "G", "GB", "GIB" -> v.multiply(BigDecimal.valueOf(1024));
                case "T", "TB", "TIB" -> v.multiply(BigDecimal.valueOf(1024L * 1024));
                default -> throw new InvalidDefinitionException(field + ": unknown unit '" + m.group(2)
                        + "' (use KB, MB, GB or TB)");
            };
        } else {
            throw new InvalidDefinitionException(field + " must be a size such as 512MB or 1.5GB, not " + n);
        }
        BigDecimal milli = mb.movePointRight(3);
        if (milli.signum() < 0 || milli.stripTrailingZeros().scale() > 0) {
            throw new InvalidDefinitionException(field + " must be a whole number of KB, not " + n);
        }
        return milli.longValueExact();
    }

    /** A duration in milliseconds: a number is seconds; a string may say ms, s, m or h. */
    static long duration(JsonNode n, String field, long dflt) {
        if (n == null || n.isNull()) {
            return dflt;
        }
        BigDecimal ms;
        if (n.isNumber()) {
            ms = n.decimalValue().movePointRight(3);
        } else if (n.isTextual()) {
            Matcher m = DURATION.matcher(n.asText().trim());
            if (!m.matches()) {
                throw new InvalidDefinitionException(field + " must be a duration such as 500ms, 10s or 5m, not " + n);
            }
            BigDecimal v = new BigDecimal(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            ms = switch (unit) {
                case "ms" -> v;
                case "m" -> v.multiply(BigDecimal.valueOf(60_000));
                case "h" -> v.multiply(BigDecimal.valueOf(3_600_000));
                default -> v.movePointRight(3);
            };
        } else {
            throw new InvalidDefinitionException(field + " must be a duration such as 500ms, 10s or 5m, not " + n);
        }
        if (ms.signum() < 0 || ms.compareTo(BigDecimal.valueOf(30L * 24 * 3_600_000)) > 0) {
            throw new InvalidDefinitionException(field + " must be between 0 and 30 days, not " + n);
        }
        return ms.setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
    }

    private static Map<String, String> env(JsonNode n) {
        Map<String, String> env = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return env;
        }
        if (!n.isObject()) {
            throw new InvalidDefinitionException("env must be an object of NAME: \"value\"");
        }
        var fields = n.fields();
        while (fields.hasNext()) {
            var e = fields.next();
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                throw new InvalidDefinitionException("env: '" + e.getKey() + "' is not a valid variable name");
            }
            if (e.getKey().matches("PORT\\d*")) {
                throw new InvalidDefinitionException("env: " + e.getKey() + " is set by the service scheduler"
                        + " (the instance's assigned ports)");
            }
            if (!e.getValue().isTextual()) {
                throw new InvalidDefinitionException("env." + e.getKey() + " must be a string");
            }
            env.put(e.getKey(), e.getValue().asText());
        }
        return env;
    }

    private static HealthSpec health(JsonNode n, int ports) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw new InvalidDefinitionException("healthCheck must be an object");
        }
        unknown(n, HEALTH, "healthCheck.");
        String typeText = text(n, "type", null);
        if (typeText == null) {
            throw new InvalidDefinitionException("healthCheck.type is required: HTTP, TCP or COMMAND");
        }
        HealthSpec.Type type;
        try {
            type = HealthSpec.Type.valueOf(typeText.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidDefinitionException("healthCheck.type '" + typeText + "' is not HTTP, TCP or COMMAND");
        }
        String path = text(n, "path", "/");
        if (type != HealthSpec.Type.HTTP && n.has("path")) {
            throw new InvalidDefinitionException("healthCheck.path is only for HTTP checks");
        }
        if (!path.startsWith("/")) {
            throw new InvalidDefinitionException("healthCheck.path must start with /");
        }
        String command = text(n, "command", null);
        int portIndex = integer(n, "portIndex", 0, 0, MAX_PORTS);
        if (type == HealthSpec.Type.COMMAND) {
            if (command == null || command.isBlank()) {
                throw new InvalidDefinitionException("healthCheck.command is required for a COMMAND check");
            }
            if (n.has("portIndex")) {
                throw new InvalidDefinitionException("healthCheck.portIndex is only for HTTP and TCP checks");
            }
        } else {
            if (command != null) {
                throw new InvalidDefinitionException("healthCheck.command is only for COMMAND checks");
            }
            if (portIndex >= ports) {
                throw new InvalidDefinitionException("healthCheck.portIndex " + portIndex + " needs at least "
                        + (portIndex + 1) + " ports, but the service asks for " + ports);
            }
        }
        long delay = duration(n.get("delay"), "healthCheck.delay", 1_000);
        long interval = duration(n.get("interval"), "healthCheck.interval", 10_000);
        long timeout = duration(n.get("timeout"), "healthCheck.timeout", 5_000);
        long grace = duration(n.get("gracePeriod"), "healthCheck.gracePeriod", 15_000);
        if (delay == 0 || interval == 0 || timeout == 0) {
            throw new InvalidDefinitionException("healthCheck delay, interval and timeout must be positive");
        }
        int failures = integer(n, "maxConsecutiveFailures", 3, 1, 100);
        return new HealthSpec(type, type == HealthSpec.Type.HTTP ? path : null, type == HealthSpec.Type.COMMAND ? 0 : portIndex,
                command, delay, interval, timeout, grace, failures);
    }

    private static List<Constraint> constraints(JsonNode n) {
        List<Constraint> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isArray()) {
            throw new InvalidDefinitionException("constraints must be a list of [field, OPERATOR, value?]");
        }
        for (JsonNode c : n) {
            if (!c.isArray() || c.size() < 2 || c.size() > 3 || !c.get(0).isTextual() || !c.get(1).isTextual()
                    || c.size() == 3 && !c.get(2).isTextual()) {
                throw new InvalidDefinitionException("constraint " + c + " must be [field, OPERATOR] or [field, OPERATOR, value]");
            }
            String field = c.get(0).asText();
            Constraint.Operator op;
            try {
                op = Constraint.Operator.valueOf(c.get(1).asText().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidDefinitionException("constraint " + c + ": operator must be UNIQUE, GROUP_BY, EQUALS or LIKE");
            }
            String value = c.size() == 3 ? c.get(2).asText() : null;
            switch (op) {
                case UNIQUE, GROUP_BY -> {
                    if (value != null) {
                        throw new InvalidDefinitionException("constraint " + c + ": " + op + " takes no value");
                    }
                }
                case EQUALS -> {
                    if (value == null) {
                        throw new InvalidDefinitionException("constraint " + c + ": EQUALS needs a value");
                    }
                }
                case LIKE -> {
                    if (value == null) {
                        throw new InvalidDefinitionException("constraint " + c + ": LIKE needs a regex");
                    }
                    try {
                        Pattern.compile(value);
                    } catch (PatternSyntaxException e) {
                        throw new InvalidDefinitionException("constraint " + c + ": '" + value + "' is not a valid regex: "
                                + e.getDescription());
                    }
                }
            }
            if (field.isBlank()) {
                throw new InvalidDefinitionException("constraint " + c + ": field is empty");
            }
            out.add(new Constraint(field, op, value));
        }
        return out;
    }

    private static UpgradeStrategy upgrade(JsonNode n) {
        if (n == null || n.isNull()) {
            return new UpgradeStrategy(1, 1.0, -1, 1, 0, -1, false, 600_000);
        }
        if (!n.isObject()) {
            throw new InvalidDefinitionException("upgradeStrategy must be an object");
        }
        unknown(n, UPGRADE, "upgradeStrategy.");
        int maxParallel = integer(n, "maxParallel", 1, 1, MAX_INSTANCES);
        double fraction = 1.0;
        int count = -1;
        JsonNode mh = n.get("minHealthy");
        if (mh != null && !mh.isNull()) {
            if (mh.isIntegralNumber()) {
                count = mh.asInt();
                if (count < 0 || count > MAX_INSTANCES) {
                    throw new InvalidDefinitionException("upgradeStrategy.minHealthy count must be 0 to " + MAX_INSTANCES);
                }
            } else if (mh.isNumber()) {
                fraction = mh.asDouble();
            } else if (mh.isTextual() && mh.asText().trim().endsWith("%")) {
                try {
                    fraction = Double.parseDouble(mh.asText().trim().replace("%", "").trim()) / 100;
                } catch (NumberFormatException e) {
                    throw new InvalidDefinitionException("upgradeStrategy.minHealthy '" + mh.asText() + "' is not a percentage");
                }
            } else {
                throw new InvalidDefinitionException("upgradeStrategy.minHealthy must be a count (2), a fraction (0.75)"
                        + " or a percentage (\"75%\")");
            }
            if (count < 0 && (fraction < 0 || fraction > 1 || Double.isNaN(fraction))) {
                throw new InvalidDefinitionException("upgradeStrategy.minHealthy fraction must be between 0 and 1");
            }
        }
        int maxSurge = integer(n, "maxSurge", 1, 0, MAX_INSTANCES);
        int canaries = integer(n, "canaries", 0, 0, MAX_INSTANCES);
        long autoPromote = n.has("autoPromoteAfter") ? duration(n.get("autoPromoteAfter"), "upgradeStrategy.autoPromoteAfter", -1) : -1;
        JsonNode ar = n.get("autoRevert");
        if (ar != null && !ar.isBoolean()) {
            throw new InvalidDefinitionException("upgradeStrategy.autoRevert must be true or false");
        }
        boolean autoRevert = ar != null && ar.asBoolean();
        long deadline = duration(n.get("progressDeadline"), "upgradeStrategy.progressDeadline", 600_000);
        if (deadline == 0) {
            throw new InvalidDefinitionException("upgradeStrategy.progressDeadline must be positive");
        }
        if (maxSurge == 0 && count < 0 && fraction >= 1.0) {
            throw new InvalidDefinitionException("upgradeStrategy: with maxSurge 0 and minHealthy 100% no instance can ever"
                    + " be replaced; allow a surge or lower minHealthy");
        }
        return new UpgradeStrategy(maxParallel, count >= 0 ? -1 : fraction, count, maxSurge, canaries, autoPromote,
                autoRevert, deadline);
    }

    private static BackoffSpec backoff(JsonNode n) {
        if (n == null || n.isNull()) {
            return new BackoffSpec(1_000, 60_000, 10);
        }
        if (!n.isObject()) {
            throw new InvalidDefinitionException("backoff must be an object");
        }
        unknown(n, BACKOFF, "backoff.");
        long initial = duration(n.get("initial"), "backoff.initial", 1_000);
        long max = duration(n.get("max"), "backoff.max", 60_000);
        if (initial == 0 || max < initial) {
            throw new InvalidDefinitionException("backoff needs 0 < initial <= max");
        }
        return new BackoffSpec(initial, max, integer(n, "crashLoopLimit", 10, 1, 1000));
    }
}

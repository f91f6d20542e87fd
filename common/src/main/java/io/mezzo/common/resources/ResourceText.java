package io.mezzo.common.resources;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.mezzo.proto.v1.Attribute;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Value;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Parses resources and attributes as operators write them, in the Mesos syntax:
 *
 * <pre>
 *   cpus:4;mem:8192;disk:10240;ports:[31000-32000];cpus(eng):2;disks:{ssd1,ssd2}
 * </pre>
 *
 * <p>A role in parentheses makes a static reservation. Resources may also be given as Mesos JSON:
 * {@code [{"name":"cpus","type":"SCALAR","scalar":{"value":4},"role":"eng"}]}. Every error names
 * the part that is wrong.
 */
public final class ResourceText {

    private ResourceText() {}

    /**
     * Parses a resource string.
     *
     * @throws IllegalArgumentException naming the offending part
     */
    public static Resources parse(String text) {
        String trimmed = text == null ? "" : text.trim();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("resources are empty");
        }
        if (trimmed.startsWith("[")) {
            return parseJson(trimmed);
        }
        Resources.Builder b = Resources.builder();
        Set<String> seen = new HashSet<>();
        for (String part : trimmed.split(";")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int colon = p.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("resource '" + p + "' is not of the form name:value");
            }
            String head = p.substring(0, colon).trim();
            String value = p.substring(colon + 1).trim();
            String name = head;
            ReservationInfo reservation = null;
            int paren = head.indexOf('(');
            if (paren >= 0) {
                if (!head.endsWith(")")) {
                    throw new IllegalArgumentException("resource '" + p + "' has an unclosed role '('");
                }
                name = head.substring(0, paren).trim();
                String role = head.substring(paren + 1, head.length() - 1).trim();
                String roleError = Roles.validate(role);
                if (roleError != null) {
                    throw new IllegalArgumentException("resource '" + p + "': " + roleError);
                }
                if (!role.equals(Roles.DEFAULT)) {
                    reservation = ReservationInfo.newBuilder()
                            .setType(ReservationInfo.Type.STATIC)
                            .setRole(role)
                            .build();
                }
            }
            if (name.isEmpty() || !name.matches("[A-Za-z0-9_.\\-]+")) {
                throw new IllegalArgumentException("resource '" + p + "' has an invalid name '" + name + "'");
            }
            if (!seen.add(name + "(" + (reservation == null ? "*" : reservation.getRole()) + ")")) {
                throw new IllegalArgumentException("resource '" + head + "' is given twice");
            }
            if (value.isEmpty()) {
                throw new IllegalArgumentException("resource '" + p + "' has no value");
            }
            try {
                if (value.startsWith("[")) {
                    b.ranges(name, reservation, parseRanges(value));
                } else if (value.startsWith("{")) {
                    b.set(name, reservation, parseSet(value));
                } else {
                    b.scalar(name, reservation, Scalars.parse(value));
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("resource '" + p + "': " + e.getMessage());
            }
        }
        Resources parsed = b.build();
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException("resources '" + text + "' hold nothing");
        }
        return parsed;
    }

    /**
     * Parses attributes such as {@code rack:r1;zone:a;level:3;ids:[1-4];tags:{x,y}}. Numbers become
     * SCALAR, bracketed ranges RANGES, braced sets SET, anything else TEXT.
     *
     * @throws IllegalArgumentException naming the offending part
     */
    public static List<Attribute> parseAttributes(String text) {
        List<Attribute> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        Set<String> seen = new HashSet<>();
        for (String part : text.split(";")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int colon = p.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("attribute '" + p + "' is not of the form name:value");
            }
            String name = p.substring(0, colon).trim();
            String value = p.substring(colon + 1).trim();
            if (!name.matches("[A-Za-z0-9_.\\-]+")) {
                throw new IllegalArgumentException("attribute '" + p + "' has an invalid name '" + name + "'");
            }
            if (!seen.add(name)) {
                throw new IllegalArgumentException("attribute '" + name + "' is given twice");
            }
            if (value.isEmpty()) {
                throw new IllegalArgumentException("attribute '" + p + "' has no value");
            }
            Attribute.Builder a = Attribute.newBuilder().setName(name);
            try {
                if (value.startsWith("[")) {
                    a.setType(Value.Type.RANGES).setRanges(parseRanges(value).toProto());
                } else if (value.startsWith("{")) {
                    a.setType(Value.Type.SET).setSet(Value.Set.newBuilder().addAllItem(parseSet(value)));
                } else if (value.matches("\\d+(\\.\\d+)?")) {
                    a.setType(Value.Type.SCALAR).setScalar(Value.Scalar.newBuilder().setMilli(Scalars.parse(value)));
                } else {
                    a.setType(Value.Type.TEXT).setText(Value.Text.newBuilder().setValue(value));
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("attribute '" + p + "': " + e.getMessage());
            }
            out.add(a.build());
        }
        return out;
    }

    /** Parses {@code [31000-32000, 40000-40010]}. */
    static RangeSet parseRanges(String value) {
        if (!value.startsWith("[") || !value.endsWith("]")) {
            throw new IllegalArgumentException("ranges '" + value + "' must be written [begin-end, ...]");
        }
        String body = value.substring(1, value.length() - 1).trim();
        if (body.isEmpty()) {
            throw new IllegalArgumentException("ranges '" + value + "' are empty");
        }
        List<long[]> list = new ArrayList<>();
        for (String r : body.split(",")) {
            String[] ends = r.trim().split("-");
            if (ends.length != 2) {
                throw new IllegalArgumentException("range '" + r.trim() + "' must be written begin-end");
            }
            long begin;
            long end;
            try {
                begin = Long.parseLong(ends[0].trim());
                end = Long.parseLong(ends[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("range '" + r.trim() + "' has a bound that is not a whole number");
            }
            if (end < begin) {
                throw new IllegalArgumentException("range '" + r.trim() + "' ends before it begins");
            }
            list.add(new long[] {begin, end});
        }
        return RangeSet.of(list);
    }

    /** Parses {@code {a,b,c}}. */
    static Set<String> parseSet(String value) {
        if (!value.startsWith("{") || !value.endsWith("}")) {
            throw new IllegalArgumentException("set '" + value + "' must be written {a,b,...}");
        }
        Set<String> items = new LinkedHashSet<>();
        for (String item : value.substring(1, value.length() - 1).split(",")) {
            String i = item.trim();
            if (i.isEmpty()) {
                throw new IllegalArgumentException("set '" + value + "' has an empty item");
            }
            if (!items.add(i)) {
                throw new IllegalArgumentException("set '" + value + "' has '" + i + "' twice");
            }
        }
        return items;
    }

    private static Resources parseJson(String text) {
        JsonArray array;
        try {
            array = JsonParser.parseString(text).getAsJsonArray();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("resources JSON is malformed: " + e.getMessage());
        }
        Resources.Builder b = Resources.builder();
        Set<String> seen = new HashSet<>();
        int index = 0;
        for (JsonElement element : array) {
            String where = "resources JSON item " + index++;
            if (!element.isJsonObject()) {
                throw new IllegalArgumentException(where + " is not an object");
            }
            JsonObject o = element.getAsJsonObject();
            try {
                String name = string(o, "name");
                if (name == null || !name.matches("[A-Za-z0-9_.\\-]+")) {
                    throw new IllegalArgumentException("has no valid \"name\"");
                }
                where = where + " ('" + name + "')";
                String role = string(o, "role");
                if (o.has("reservations") && o.get("reservations").isJsonArray()) {
                    JsonArray reservations = o.getAsJsonArray("reservations");
                    if (!reservations.isEmpty()) {
                        role = string(reservations.get(reservations.size() - 1).getAsJsonObject(), "role");
                    }
                }
                ReservationInfo reservation = null;
                if (role != null && !role.equals(Roles.DEFAULT)) {
                    String roleError = Roles.validate(role);
                    if (roleError != null) {
                        throw new IllegalArgumentException(roleError);
                    }
                    reservation = ReservationInfo.newBuilder()
                            .setType(ReservationInfo.Type.STATIC)
                            .setRole(role)
                            .build();
                }
                if (!seen.add(name + "(" + (role == null ? "*" : role) + ")")) {
                    throw new IllegalArgumentException("is given twice");
                }
                String type = string(o, "type");
                if (type == null) {
                    throw new IllegalArgumentException("has no \"type\"");
                }
                switch (type) {
                    case "SCALAR" -> b.scalar(name, reservation, Scalars.fromDouble(
                            o.getAsJsonObject("scalar").get("value").getAsDouble()));
                    case "RANGES" -> {
                        List<long[]> list = new ArrayList<>();
                        for (JsonElement r : o.getAsJsonObject("ranges").getAsJsonArray("range")) {
                            long begin = r.getAsJsonObject().get("begin").getAsLong();
                            long end = r.getAsJsonObject().get("end").getAsLong();
                            if (end < begin || begin < 0) {
                                throw new IllegalArgumentException("has invalid range [" + begin + "-" + end + "]");
                            }
                            list.add(new long[] {begin, end});
                        }
                        b.ranges(name, reservation, RangeSet.of(list));
                    }
                    case "SET" -> {
                        List<String> items = new ArrayList<>();
                        o.getAsJsonObject("set").getAsJsonArray("item").forEach(i -> items.add(i.getAsString()));
                        b.set(name, reservation, items);
                    }
                    default -> throw new IllegalArgumentException("has unknown type '" + type + "'");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + " " + e.getMessage());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + " is malformed: " + e);
            }
        }
        Resources parsed = b.build();
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException("resources JSON holds nothing");
        }
        return parsed;
    }

    private static String string(JsonObject o, String field) {
        JsonElement e = o.get(field);
        return e == null || e.isJsonNull() ? null : e.getAsString();
    }
}

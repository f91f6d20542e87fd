package io.mezzo.dist.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Cells of the operator tools' tables: resource lists in human units ({@code cpus=2 mem=1GB}, the
 * syntax {@code mezzo quota set} reads), "used of total" pairs, and the JSON of {@code --json}
 * (proto field names, every field). Pure; any thread.
 */
final class Render {

    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames()
            .alwaysPrintFieldsWithNoPresence();
    /** The usual resources first, in this order; others follow by name. */
    private static final List<String> FIRST = List.of("cpus", "mem", "disk", "gpus");

    private Render() {}

    /** {@code message} as indented JSON with proto field names, as the API answered it. */
    static String json(MessageOrBuilder message) {
        try {
            return JSON.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** The scalars of {@code resources} summed per name over reservations, usual names first. */
    static Map<String, Long> scalars(List<Resource> resources) {
        Map<String, Long> sums = new TreeMap<>();
        for (Resource r : resources) {
            if (r.getType() == Value.Type.SCALAR) {
                sums.merge(r.getName(), r.getScalar().getMilli(), Long::sum);
            }
        }
        return ordered(sums);
    }

    /** {@code map} with cpus, mem, disk and gpus first, then the others by name. */
    static <V> Map<String, V> ordered(Map<String, V> map) {
        Map<String, V> out = new LinkedHashMap<>();
        for (String name : FIRST) {
            if (map.containsKey(name)) {
                out.put(name, map.get(name));
            }
        }
        new TreeMap<>(map).forEach(out::putIfAbsent);
        return out;
    }

    /** Scalars as {@code cpus=2 mem=1GB disk=10GB}; {@code -} when there are none. */
    static String amounts(Map<String, Long> milli) {
        List<String> parts = new ArrayList<>();
        ordered(milli).forEach((name, amount) -> parts.add(name + "=" + HumanUnits.format(name, amount)));
        return parts.isEmpty() ? "-" : String.join(" ", parts);
    }

    /** The scalars of {@code resources} as {@code cpus=2 mem=1GB}. */
    static String amounts(List<Resource> resources) {
        return amounts(scalars(resources));
    }

    /** The quota map of the API ({@code name -> Scalar}) as {@code cpus=2 mem=1GB}. */
    static String quota(Map<String, Value.Scalar> amounts) {
        Map<String, Long> milli = new TreeMap<>();
        amounts.forEach((name, s) -> milli.put(name, s.getMilli()));
        return amounts(milli);
    }

    /** {@code used/total} of resource {@code name}, in its unit: {@code 0.5/2}, {@code 512MB/1GB}. */
    static String usedOfTotal(String name, List<Resource> used, List<Resource> total) {
        return HumanUnits.format(name, scalars(used).getOrDefault(name, 0L)) + "/"
                + HumanUnits.format(name, scalars(total).getOrDefault(name, 0L));
    }

    /** The amount of scalar {@code name} in {@code resources}, in its unit ({@code 0} when absent). */
    static String amount(String name, List<Resource> resources) {
        return HumanUnits.format(name, scalars(resources).getOrDefault(name, 0L));
    }

    /** An enum constant as a table shows it: {@code TASK_RUNNING} is {@code RUNNING}. */
    static String state(Enum<?> state, String prefix) {
        String name = state.name();
        return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
    }
}

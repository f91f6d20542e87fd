package io.mezzo.common.resources;

import io.mezzo.proto.v1.Resource;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Sane bounds of resource amounts, checked at the edge so that a unit mistake or an abusive peer is
 * refused with a message that names the unit (docs/api.md, "Limits"):
 *
 * <ul>
 *   <li>an agent advertises at most a per-resource maximum (summed over its reservations), so that
 *       one agent cannot advertise 10^12 cpus and no realistic cluster's totals come near 2^63
 *       thousandths: every maximum is at most 10^12 thousandths, so it takes over 9 million agents
 *       at the maximum to overflow a total;
 *   <li>a task asks for at least a per-resource minimum of cpus and mem (Mesos' 0.01 cpus and
 *       32 MB), so that "mem: 32" meant as thousandths of a GB is caught instead of run with
 *       0.032 MB.
 * </ul>
 *
 * Pure; any thread.
 */
public final class ResourceBounds {

    /** Most cpus one agent may advertise. */
    public static final long MAX_AGENT_CPUS = 100_000 * Scalars.SCALE;
    /** Most mem (MB) one agent may advertise: 100 TB. */
    public static final long MAX_AGENT_MEM = 100_000_000 * Scalars.SCALE;
    /** Most disk (MB) one agent may advertise: 1 PB. */
    public static final long MAX_AGENT_DISK = 1_000_000_000 * Scalars.SCALE;
    /** Most gpus one agent may advertise. */
    public static final long MAX_AGENT_GPUS = 10_000 * Scalars.SCALE;
    /** Most of any other scalar resource one agent may advertise. */
    public static final long MAX_AGENT_OTHER = 1_000_000_000 * Scalars.SCALE;
    /** Most range entries or set items of one resource an agent may advertise. */
    public static final int MAX_AGENT_ITEMS = 4096;
    /** Fewest cpus a task may ask for: 0.01. */
    public static final long MIN_TASK_CPUS = 10;
    /** Fewest mem (MB) a task may ask for: 32 MB. */
    public static final long MIN_TASK_MEM = 32 * Scalars.SCALE;

    private ResourceBounds() {}

    /** The most of scalar {@code name} one agent may advertise, in thousandths. */
    public static long agentMaximum(String name) {
        return switch (name) {
            case Resources.CPUS -> MAX_AGENT_CPUS;
            case Resources.MEM -> MAX_AGENT_MEM;
            case Resources.DISK -> MAX_AGENT_DISK;
            case "gpus" -> MAX_AGENT_GPUS;
            default -> MAX_AGENT_OTHER;
        };
    }

    /** The unit users write {@code name} in, for messages. */
    public static String unit(String name) {
        return switch (name) {
            case Resources.MEM, Resources.DISK -> "MB";
            default -> "";
        };
    }

    /**
     * Null when the resources an agent advertises (already valid per {@link ResourceValidation})
     * are within the maxima, else a sentence naming the resource, the amount and the unit.
     */
    public static String checkAgent(List<Resource> resources) {
        Map<String, Long> sums = new TreeMap<>();
        for (Resource r : resources) {
            switch (r.getType()) {
                case SCALAR -> {
                    long before = sums.getOrDefault(r.getName(), 0L);
                    long milli = r.getScalar().getMilli();
                    // Both are non-negative; a sum past the maximum is refused before it could overflow.
                    long sum = before > Long.MAX_VALUE - milli ? Long.MAX_VALUE : before + milli;
                    sums.put(r.getName(), sum);
                }
                case RANGES -> {
                    if (r.getRanges().getRangeCount() > MAX_AGENT_ITEMS) {
                        return "resource '" + r.getName() + "' has " + r.getRanges().getRangeCount()
                                + " ranges, more than the limit of " + MAX_AGENT_ITEMS;
                    }
                }
                case SET -> {
                    if (r.getSet().getItemCount() > MAX_AGENT_ITEMS) {
                        return "resource '" + r.getName() + "' has " + r.getSet().getItemCount()
                                + " items, more than the limit of " + MAX_AGENT_ITEMS;
                    }
                }
                default -> { }
            }
        }
        for (Map.Entry<String, Long> e : sums.entrySet()) {
            long max = agentMaximum(e.getKey());
            if (e.getValue() > max) {
                return "resource '" + e.getKey() + "' of " + amount(e.getKey(), e.getValue())
                        + " is more than one agent may advertise (" + amount(e.getKey(), max) + ")";
            }
        }
        return null;
    }

    /**
     * Null when a task's resources meet the minima of cpus and mem, else a sentence naming the
     * resource, the amount asked for and the minimum, with the unit.
     */
    public static String checkTask(Resources resources) {
        long cpus = resources.scalar(Resources.CPUS);
        if (cpus < MIN_TASK_CPUS) {
            return "asks for " + amount(Resources.CPUS, cpus) + " of cpus, below the minimum of "
                    + amount(Resources.CPUS, MIN_TASK_CPUS);
        }
        long mem = resources.scalar(Resources.MEM);
        if (mem < MIN_TASK_MEM) {
            return "asks for " + amount(Resources.MEM, mem) + " of mem, below the minimum of "
                    + amount(Resources.MEM, MIN_TASK_MEM) + " (mem is in MB)";
        }
        return null;
    }

    private static String amount(String name, long milli) {
        String unit = unit(name);
        return Scalars.format(milli) + (unit.isEmpty() ? "" : " " + unit);
    }
}

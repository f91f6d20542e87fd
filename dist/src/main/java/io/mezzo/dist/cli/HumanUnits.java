package io.mezzo.dist.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scalar resources and times as the operator tools show and read them. Amounts are thousandths
 * ({@code milli}) in the protocol; people see {@code cpus} as a decimal ({@code 0.5}) and {@code
 * mem} and {@code disk}, which are megabytes as in Mesos, with a binary unit ({@code 512MB}, {@code
 * 1.5GB}, {@code 2TB}). Parsing is exact: text that is not a whole number of thousandths of the
 * resource's unit is refused with a message saying why, never rounded. Times are relative to a
 * given "now" ({@code 3m ago}, {@code in 2h}). Pure; any thread.
 */
final class HumanUnits {

    private static final BigDecimal KI = BigDecimal.valueOf(1024);
    private static final BigDecimal MI = KI.multiply(KI);
    private static final Pattern SIZE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?|\\.[0-9]+)\\s*([a-z]*)");

    private HumanUnits() {}

    /** Whether {@code name} is measured in megabytes (mem, disk). */
    static boolean isMegabytes(String name) {
        return name.equals("mem") || name.equals("disk");
    }

    /** An amount of resource {@code name}: {@code 1.5GB} for mem and disk, {@code 0.5} otherwise. */
    static String format(String name, long milli) {
        return isMegabytes(name) ? megabytes(milli) : decimal(milli);
    }

    /** Thousandths as the shortest exact decimal: 500 is {@code 0.5}, 2000 is {@code 2}. */
    static String decimal(long milli) {
        return BigDecimal.valueOf(milli, 3).stripTrailingZeros().toPlainString();
    }

    /**
     * Thousandths of a megabyte with the largest binary unit that leaves at least 1, at most two
     * decimals: {@code 512MB}, {@code 1.5GB}, {@code 2TB}, {@code 0MB}.
     */
    static String megabytes(long milli) {
        BigDecimal mb = BigDecimal.valueOf(milli, 3);
        String unit = "MB";
        BigDecimal value = mb;
        if (mb.compareTo(MI) >= 0) {
            value = mb.divide(MI);
            unit = "TB";
        } else if (mb.compareTo(KI) >= 0) {
            value = mb.divide(KI);
            unit = "GB";
        }
        value = value.setScale(2, RoundingMode.HALF_UP).stripTrailingZeros();
        return (value.signum() == 0 ? "0" : value.toPlainString()) + unit;
    }

    /**
     * Parses an amount of resource {@code name} into thousandths. mem and disk take a number of
     * megabytes with an optional unit (MB, the default, GB or TB; 1GB is 1024MB; case does not
     * matter, M/G/T and MiB/GiB/TiB are accepted); other resources a plain decimal.
     *
     * @throws IllegalArgumentException saying what is wrong: not a number, negative, a unit where
     *     none is taken, an unknown unit, finer than a thousandth, or too large
     */
    static long parse(String name, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIZE.matcher(t);
        if (t.startsWith("-")) {
            throw new IllegalArgumentException(name + " '" + text + "' is negative");
        }
        if (!m.matches()) {
            throw new IllegalArgumentException(name + " '" + text + "' is not a number"
                    + (isMegabytes(name) ? " with an optional unit, such as 512MB, 1.5GB or 2TB" : ", such as 0.5 or 4"));
        }
        BigDecimal value = new BigDecimal(m.group(1));
        String unit = m.group(2);
        BigDecimal megabytes;
        if (!isMegabytes(name)) {
            if (!unit.isEmpty()) {
                throw new IllegalArgumentException(name + " '" + text + "' takes a plain number, without a unit");
            }
            megabytes = value;
        } else {
            megabytes = switch (unit) {
                case "", "m", "mb", "mib" -> value;
                case "g", "gb", "gib" -> value.multiply(KI);
                case "t", "tb", "tib" -> value.multiply(MI);
                default -> throw new IllegalArgumentException(name + " '" + text + "' has unknown unit '" + unit
                        + "' (MB, GB or TB)");
            };
        }
        BigDecimal milli = megabytes.movePointRight(3);
        if (milli.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException(name + " '" + text + "' is finer than a thousandth of "
                    + (isMegabytes(name) ? "a megabyte" : "a unit") + ", the protocol's precision");
        }
        try {
            return milli.longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + " '" + text + "' is too large");
        }
    }

    /**
     * Parses {@code NAME=AMOUNT} items ({@code cpus=4 mem=8GB}, or comma-separated in one item,
     * {@code cpus=4,mem=8GB}) into thousandths per name, in the order given.
     *
     * @throws IllegalArgumentException for an item without '=', an empty name, a name given twice,
     *     or an amount {@link #parse} refuses
     */
    static java.util.Map<String, Long> parseAmounts(java.util.List<String> items) {
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String item : items) {
            for (String part : item.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("'" + part + "' is not NAME=AMOUNT, such as cpus=4 or mem=8GB");
                }
                String name = part.substring(0, eq).trim();
                if (!name.matches("[A-Za-z0-9_.-]+")) {
                    throw new IllegalArgumentException("'" + name + "' is not a resource name");
                }
                if (out.put(name, parse(name, part.substring(eq + 1))) != null) {
                    throw new IllegalArgumentException(name + " is given twice");
                }
            }
        }
        return out;
    }

    /**
     * A time (seconds since the epoch, as in the protocol) relative to {@code now}: {@code 45s
     * ago}, {@code 3m ago}, {@code 2h ago}, {@code 5d ago}, {@code in 10m} for the future, {@code -}
     * for 0 (not set).
     */
    static String relative(double epochSeconds, Instant now) {
        if (epochSeconds <= 0) {
            return "-";
        }
        long millis = now.toEpochMilli() - Math.round(epochSeconds * 1000);
        String amount = duration(Duration.ofMillis(Math.abs(millis)));
        return millis >= 0 ? amount + " ago" : "in " + amount;
    }

    /** A duration in its largest whole unit: {@code 45s}, {@code 3m}, {@code 2h}, {@code 5d}. */
    static String duration(Duration d) {
        long s = d.toSeconds();
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m";
        }
        if (s < 86400) {
            return s / 3600 + "h";
        }
        return s / 86400 + "d";
    }

    /**
     * A point in time as an operator types it: {@code now}, {@code +30m} or {@code in 2h} (from
     * {@code now}), an ISO-8601 instant or date-time with offset ({@code 2026-12-03T18:00:00Z},
     * {@code 2026-12-03T19:00+01:00}), or a local date-time in {@code zone} ({@code
     * 2026-12-03T18:00}, {@code 2026-12-03 18:00}).
     *
     * @throws IllegalArgumentException saying which forms are accepted
     */
    static Instant parseTime(String text, Instant now, java.time.ZoneId zone) {
        String t = text.trim();
        if (t.equalsIgnoreCase("now")) {
            return now;
        }
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.startsWith("+") || lower.startsWith("in ")) {
            String amount = lower.startsWith("+") ? lower.substring(1) : lower.substring(3);
            try {
                return now.plus(DurationConverter.parse(amount.trim()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("'" + text + "': " + e.getMessage());
            }
        }
        String iso = t.replaceFirst("^(\\d{4}-\\d{2}-\\d{2}) ", "$1T");
        try {
            return java.time.OffsetDateTime.parse(iso).toInstant();
        } catch (java.time.format.DateTimeParseException notOffset) {
            try {
                return java.time.LocalDateTime.parse(iso).atZone(zone).toInstant();
            } catch (java.time.format.DateTimeParseException notLocal) {
                throw new IllegalArgumentException("'" + text + "' is not a time: use now, +30m, 2026-12-03T18:00:00Z"
                        + " or 2026-12-03T18:00 (local time)");
            }
        }
    }
}

package io.mezzo.dist.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Durations as Mesos writes them ({@code 15secs}, {@code 1mins}, {@code 500ms}, {@code 2hrs},
 * {@code 1days}, {@code 1weeks}) and the short forms ({@code 15s}, {@code 1m}, {@code 2h}).
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    private static final Pattern FORMAT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]+)");

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    /** Parses a duration; throws a TypeConversionException saying what is accepted. */
    public static Duration parse(String value) {
        Matcher m = FORMAT.matcher(value.trim().toLowerCase());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException(
                    "'" + value + "' is not a duration such as 500ms, 15secs, 1mins, 2hrs or 1days");
        }
        double amount = Double.parseDouble(m.group(1));
        double nanosPerUnit = switch (m.group(2)) {
            case "ns", "nsecs" -> 1;
            case "us", "usecs" -> 1e3;
            case "ms", "msecs" -> 1e6;
            case "s", "sec", "secs" -> 1e9;
            case "m", "min", "mins" -> 60e9;
            case "h", "hr", "hrs" -> 3600e9;
            case "d", "day", "days" -> 86400e9;
            case "w", "week", "weeks" -> 604800e9;
            default -> throw new CommandLine.TypeConversionException(
                    "'" + value + "' has unknown unit '" + m.group(2) + "' (ms, secs, mins, hrs, days, weeks)");
        };
        return Duration.ofNanos(Math.round(amount * nanosPerUnit));
    }
}

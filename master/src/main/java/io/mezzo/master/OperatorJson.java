package io.mezzo.master;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prints operator API messages as the HTTP endpoints answer them: proto field names, every field,
 * and times an operator can read. Each {@code *_time} field (seconds since the epoch, a double in
 * the protocol) prints as plain seconds ({@code 1796288699.066}, never {@code 1.796288699066E9})
 * followed by an ISO-8601 twin, {@code *_time_iso} ({@code 2026-12-03T14:04:59.066Z}); a time of 0
 * (not set) has no twin. Each scalar amount ({@code "milli": "2000"}, thousandths as the protocol
 * carries them, an int64 printed as a string) gets a twin right after it, {@code "value": 2}: the
 * amount in the resource's unit as an exact decimal with no exponent (CPUs; megabytes for mem and
 * disk, as in Mesos), so that {@code "scalar": {"milli": "2000", "value": 2}}; {@code milli} stays
 * for scripts. One pass over the printed text (the printer puts each field on a line of its own),
 * so that a large {@code /state} costs little more than protobuf's own printing. Pure; any thread.
 */
final class OperatorJson {

    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence();
    /** A time field as the printer writes it: {@code "x_time": 1.796288699066E9}. */
    private static final Pattern TIME = Pattern.compile("\"([a-z_]*_time)\": (-?[0-9.]+(?:E[0-9]+)?)");
    /** A time field, or a scalar amount with the line break and indentation before it: {@code "milli": "2000"}. */
    private static final Pattern FIELDS = Pattern.compile(TIME.pattern() + "|(\\n *)\"milli\": \"(-?[0-9]+)\"(,?)");

    private OperatorJson() {}

    /** {@code message} as JSON, with readable times. */
    static String print(MessageOrBuilder message) throws InvalidProtocolBufferException {
        String json = PRINTER.print(message);
        Matcher m = FIELDS.matcher(json);
        StringBuilder out = new StringBuilder(json.length() + json.length() / 8);
        while (m.find()) {
            if (m.group(3) != null) {
                String indent = m.group(3);
                String value = BigDecimal.valueOf(Long.parseLong(m.group(4)), 3).stripTrailingZeros().toPlainString();
                m.appendReplacement(out, Matcher.quoteReplacement(indent + "\"milli\": \"" + m.group(4) + "\","
                        + indent + "\"value\": " + value + m.group(5)));
                continue;
            }
            double seconds = Double.parseDouble(m.group(2));
            String plain = BigDecimal.valueOf(seconds).toPlainString();
            String replacement = "\"" + m.group(1) + "\": " + plain;
            if (seconds > 0) {
                replacement += ", \"" + m.group(1) + "_iso\": \"" + Instant.ofEpochMilli(Math.round(seconds * 1000)) + "\"";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }
}

package io.mezzo.master;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Prints operator API messages as the HTTP endpoints answer them: proto field names, every field,
 * and times an operator can read. Each {@code *_time} field (seconds since the epoch, a double in
 * the protocol) prints as plain seconds ({@code 1796288699.066}, never {@code 1.796288699066E9})
 * with an ISO-8601 twin, {@code *_time_iso} ({@code 2026-12-03T14:04:59.066Z}); a time of 0 (not
 * set) has no twin. Pure; any thread.
 */
final class OperatorJson {

    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence();

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private OperatorJson() {}

    /** {@code message} as JSON, with readable times. */
    static String print(MessageOrBuilder message) throws InvalidProtocolBufferException {
        JsonElement tree = JsonParser.parseString(PRINTER.print(message));
        readableTimes(tree);
        return GSON.toJson(tree);
    }

    private static void readableTimes(JsonElement e) {
        if (e instanceof JsonObject o) {
            for (Map.Entry<String, JsonElement> field : List.copyOf(o.entrySet())) {
                JsonElement v = field.getValue();
                if (field.getKey().endsWith("_time") && v instanceof JsonPrimitive p && p.isNumber()) {
                    double seconds = p.getAsDouble();
                    o.add(field.getKey(), new JsonPrimitive(new BigDecimal(BigDecimal.valueOf(seconds).toPlainString())));
                    if (seconds > 0) {
                        o.addProperty(field.getKey() + "_iso", Instant.ofEpochMilli(Math.round(seconds * 1000)).toString());
                    }
                } else {
                    readableTimes(v);
                }
            }
        } else if (e instanceof JsonArray a) {
            a.forEach(OperatorJson::readableTimes);
        }
    }
}

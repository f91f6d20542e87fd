package io.mezzo.common.validation;

import io.mezzo.proto.v1.Label;
import io.mezzo.proto.v1.Labels;

/**
 * The documented length limits of every free-text field a peer sends (docs/api.md, "Limits"),
 * checked at the daemons' edges, and {@link #shown} for putting an untrusted field in a log line or
 * an error message. Lengths count UTF-16 characters ({@code String.length()}). Pure; any thread.
 *
 * <p>The limits keep every registry record far below the registry's record limit: a framework or
 * agent whose whole info is larger than {@link #RECORD_BYTES} is refused before anything is
 * written.
 */
public final class Limits {

    /** Framework names, task names. */
    public static final int NAME = 1024;
    /** Hostnames (framework_info.hostname, agent_info.hostname). */
    public static final int HOSTNAME = 255;
    /** Principals. */
    public static final int PRINCIPAL = 256;
    /** Users (framework_info.user, command.user). */
    public static final int USER = 256;
    /** One role name. */
    public static final int ROLE = 512;
    /** Roles of one framework. */
    public static final int ROLES = 128;
    /** Labels in one list. */
    public static final int LABELS = 64;
    /** A label key. */
    public static final int LABEL_KEY = 256;
    /** A label value. */
    public static final int LABEL_VALUE = 1024;
    /** Attributes of one agent. */
    public static final int ATTRIBUTES = 128;
    /** An attribute's name, text value, or one set item. */
    public static final int ATTRIBUTE_VALUE = 1024;
    /** Free-text messages: status messages, kill reasons, error messages. */
    public static final int MESSAGE = 4096;
    /** A command: shell text, or all argv entries together. */
    public static final int COMMAND = 128 * 1024;
    /** Environment variables of one command. */
    public static final int ENVIRONMENT_VARIABLES = 1024;
    /** One environment variable's name plus value. */
    public static final int ENVIRONMENT_VARIABLE = 64 * 1024;
    /** URIs of one command. */
    public static final int URIS = 128;
    /** One URI, or its output file name. */
    public static final int URI = 4096;
    /** Version strings and other short tags. */
    public static final int TAG = 256;
    /** Serialized size of a framework's or an agent's info: what its registry record holds. */
    public static final int RECORD_BYTES = 64 * 1024;
    /** Most characters of an untrusted field a log line or error message shows. */
    public static final int LOG_FIELD = 256;

    private Limits() {}

    /** Null when {@code value} has at most {@code max} characters, else a sentence naming the field. */
    public static String length(String field, String value, int max) {
        if (value == null || value.length() <= max) {
            return null;
        }
        return field + " has " + value.length() + " characters, more than the limit of " + max;
    }

    /** Null when there are at most {@code max} entries, else a sentence naming the field. */
    public static String count(String field, int count, int max) {
        return count <= max ? null : field + " has " + count + " entries, more than the limit of " + max;
    }

    /** Checks a label list: at most {@link #LABELS} labels with bounded, non-empty keys and bounded values. */
    public static String labels(String field, Labels labels) {
        String error = count(field, labels.getLabelsCount(), LABELS);
        if (error != null) {
            return error;
        }
        for (Label label : labels.getLabelsList()) {
            if (label.getKey().isEmpty()) {
                return field + " has a label with an empty key";
            }
            error = length(field + " key", label.getKey(), LABEL_KEY);
            if (error == null) {
                error = length(field + " '" + shown(label.getKey()) + "' value", label.getValue(), LABEL_VALUE);
            }
            if (error != null) {
                return error;
            }
        }
        return null;
    }

    /**
     * A whole message (an error that may quote untrusted fields) cut to {@code max} characters with
     * a marker saying how much was left out: what log lines and error replies carry.
     */
    public static String cut(String message, int max) {
        if (message == null || message.length() <= max) {
            return message;
        }
        return message.substring(0, max) + "...[" + (message.length() - max) + " more characters]";
    }

    /**
     * {@code value} as a log line or an error message may show it: at most {@link #LOG_FIELD}
     * characters, longer ones cut with a marker saying how much was left out, and control
     * characters (line breaks included) escaped, so that one field is one bounded line.
     */
    public static String shown(String value) {
        if (value == null) {
            return "null";
        }
        int keep = Math.min(value.length(), LOG_FIELD);
        StringBuilder b = new StringBuilder(keep + 32);
        for (int i = 0; i < keep; i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (value.length() > keep) {
            b.append("...[").append(value.length() - keep).append(" more characters]");
        }
        return b.toString();
    }
}

package io.mezzo.testkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests that scrape
 * {@code /metrics}: what a Prometheus server would refuse, this refuses with the line and the
 * reason. The Prometheus Java client writes this format but ships no parser, and none resolves
 * here; this follows the format's specification ({@code exposition_formats.md}): {@code # HELP} and
 * {@code # TYPE} lines, samples {@code name{label="value",...} value [timestamp]}, escapes in help
 * text and label values, and the histogram rules (cumulative {@code _bucket} series with an {@code
 * le} label ending at {@code +Inf}, whose count equals {@code _count}).
 *
 * <p>Pure; any thread.
 */
public final class PrometheusText {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final List<String> TYPES = List.of("counter", "gauge", "histogram", "summary", "untyped");

    private PrometheusText() {}

    /** One sample: a series and its value. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    /** One metric family: its TYPE, HELP and samples. */
    public record Family(String name, String type, String help, List<Sample> samples) {

        /** The value of the sample of {@code series} (a full sample name) with these labels, if any. */
        public Optional<Double> value(String series, Map<String, String> labels) {
            return samples.stream()
                    .filter(s -> s.name().equals(series) && s.labels().equals(labels))
                    .map(Sample::value)
                    .findFirst();
        }
    }

    /** Thrown for text a Prometheus server would not accept. */
    public static final class ParseException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ParseException(int line, String text, String why) {
            super("line " + line + ": " + why + ": " + text);
        }
    }

    /** The families of {@code text}, by name, in order; throws {@link ParseException} on any error. */
    public static Map<String, Family> parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, String> helps = new LinkedHashMap<>();
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int n = i + 1;
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    String name = parts[2];
                    if (!METRIC_NAME.matcher(name).matches()) {
                        throw new ParseException(n, line, "bad metric name '" + name + "'");
                    }
                    String rest = parts.length > 3 ? parts[3] : "";
                    if (parts[1].equals("HELP")) {
                        if (helps.put(name, unescape(n, line, rest, false)) != null) {
                            throw new ParseException(n, line, "second HELP for " + name);
                        }
                    } else {
                        if (!TYPES.contains(rest)) {
                            throw new ParseException(n, line, "unknown type '" + rest + "'");
                        }
                        if (samples.keySet().stream().anyMatch(s -> family(s, rest).equals(name))) {
                            throw new ParseException(n, line, "TYPE after the samples of " + name);
                        }
                        if (types.put(name, rest) != null) {
                            throw new ParseException(n, line, "second TYPE for " + name);
                        }
                    }
                }
                continue;
            }
            Sample s = sample(n, line);
            samples.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s);
        }
        Map<String, Family> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> t : types.entrySet()) {
            List<Sample> of = new ArrayList<>();
            samples.forEach((name, list) -> {
                if (family(name, t.getValue()).equals(t.getKey())) {
                    of.addAll(list);
                }
            });
            out.put(t.getKey(), new Family(t.getKey(), t.getValue(), helps.getOrDefault(t.getKey(), ""), of));
        }
        for (String name : samples.keySet()) {
            if (out.values().stream().noneMatch(f -> family(name, f.type()).equals(f.name()))) {
                throw new ParseException(0, name, "samples without a TYPE line");
            }
        }
        out.values().stream().filter(f -> f.type().equals("histogram")).forEach(PrometheusText::checkHistogram);
        return out;
    }

    /** The family a sample name belongs to, for a family of {@code type}. */
    private static String family(String sample, String type) {
        // In this format a counter's TYPE line names its samples in full (x_total); only histograms
        // and summaries have samples under suffixed names.
        for (String suffix : type.equals("histogram") ? List.of("_bucket", "_sum", "_count", "_created")
                : type.equals("summary") ? List.of("_sum", "_count", "_created")
                : List.<String>of()) {
            if (sample.endsWith(suffix)) {
                return sample.substring(0, sample.length() - suffix.length());
            }
        }
        return sample;
    }

    private static Sample sample(int n, String line) {
        Matcher m = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)").matcher(line);
        if (!m.find()) {
            throw new ParseException(n, line, "no metric name");
        }
        String name = m.group(1);
        int at = name.length();
        Map<String, String> labels = new TreeMap<>();
        if (at < line.length() && line.charAt(at) == '{') {
            at++;
            while (true) {
                if (line.charAt(at) == '}') {
                    at++;
                    break;
                }
                int eq = line.indexOf('=', at);
                if (eq < 0) {
                    throw new ParseException(n, line, "label without '='");
                }
                String label = line.substring(at, eq);
                if (!LABEL_NAME.matcher(label).matches()) {
                    throw new ParseException(n, line, "bad label name '" + label + "'");
                }
                if (eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
                    throw new ParseException(n, line, "label value not quoted");
                }
                StringBuilder value = new StringBuilder();
                int i = eq + 2;
                for (; i < line.length() && line.charAt(i) != '"'; i++) {
                    if (line.charAt(i) == '\\') {
                        i++;
                        if (i >= line.length()) {
                            throw new ParseException(n, line, "dangling escape");
                        }
                        char c = line.charAt(i);
                        value.append(switch (c) {
                            case 'n' -> '\n';
                            case '\\' -> '\\';
                            case '"' -> '"';
                            default -> throw new ParseException(n, line, "bad escape \\" + c);
                        });
                    } else {
                        value.append(line.charAt(i));
                    }
                }
                if (i >= line.length()) {
                    throw new ParseException(n, line, "unterminated label value");
                }
                if (labels.put(label, value.toString()) != null) {
                    throw new ParseException(n, line, "label " + label + " twice");
                }
                at = i + 1;
                if (line.charAt(at) == ',') {
                    at++;
                } else if (line.charAt(at) != '}') {
                    throw new ParseException(n, line, "expected ',' or '}' after a label");
                }
            }
        }
        if (at >= line.length() || line.charAt(at) != ' ') {
            throw new ParseException(n, line, "no space before the value");
        }
        String[] rest = line.substring(at + 1).trim().split(" +");
        if (rest.length < 1 || rest.length > 2) {
            throw new ParseException(n, line, "expected a value and an optional timestamp");
        }
        double value = number(n, line, rest[0]);
        if (rest.length == 2) {
            try {
                Long.parseLong(rest[1]);
            } catch (NumberFormatException e) {
                throw new ParseException(n, line, "bad timestamp '" + rest[1] + "'");
            }
        }
        return new Sample(name, Map.copyOf(labels), value);
    }

    private static double number(int n, String line, String text) {
        switch (text) {
            case "+Inf", "Inf" -> {
                return Double.POSITIVE_INFINITY;
            }
            case "-Inf" -> {
                return Double.NEGATIVE_INFINITY;
            }
            case "NaN" -> {
                return Double.NaN;
            }
            default -> {
                try {
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new ParseException(n, line, "bad value '" + text + "'");
                }
            }
        }
    }

    private static String unescape(int n, String line, String text, boolean quotes) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= text.length()) {
                throw new ParseException(n, line, "dangling escape");
            }
            char e = text.charAt(i);
            if (e == 'n') {
                out.append('\n');
            } else if (e == '\\' || (quotes && e == '"')) {
                out.append(e);
            } else {
                throw new ParseException(n, line, "bad escape \\" + e);
            }
        }
        return out.toString();
    }

    /** Buckets are cumulative per series, end at +Inf, and +Inf equals _count. */
    private static void checkHistogram(Family f) {
        Map<Map<String, String>, List<Sample>> bySeries = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
        for (Sample s : f.samples()) {
            if (s.name().endsWith("_bucket")) {
                if (!s.labels().containsKey("le")) {
                    throw new ParseException(0, s.toString(), "histogram bucket without 'le'");
                }
                Map<String, String> series = new TreeMap<>(s.labels());
                series.remove("le");
                bySeries.computeIfAbsent(Map.copyOf(series), k -> new ArrayList<>()).add(s);
            } else if (s.name().endsWith("_count")) {
                counts.put(s.labels(), s.value());
            }
        }
        bySeries.forEach((series, buckets) -> {
            double last = -1;
            double lastLe = Double.NEGATIVE_INFINITY;
            for (Sample b : buckets) {
                double le = number(0, b.toString(), b.labels().get("le"));
                if (le <= lastLe || b.value() < last) {
                    throw new ParseException(0, b.toString(), "buckets of " + f.name() + " are not cumulative");
                }
                lastLe = le;
                last = b.value();
            }
            if (lastLe != Double.POSITIVE_INFINITY) {
                throw new ParseException(0, f.name() + series, "histogram without a +Inf bucket");
            }
            Double count = counts.get(series);
            if (count == null || count != last) {
                throw new ParseException(0, f.name() + series, "+Inf bucket " + last + " is not _count " + count);
            }
        });
    }
}

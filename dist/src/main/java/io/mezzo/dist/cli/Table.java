package io.mezzo.dist.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table as the operator tools print it: a header row in capitals, then one row per
 * object, columns left-aligned and three spaces apart, no trailing spaces (like {@code docker ps}
 * and {@code kubectl get}). Cells are single-line: line breaks and tabs become spaces. Pure; one
 * thread.
 */
final class Table {

    private static final String GAP = "   ";

    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    Table(String... headers) {
        this.headers = List.of(headers);
    }

    /** Adds a row; it must have one cell per header. */
    Table row(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("a row of " + cells.length + " cells in a table of " + headers.size()
                    + " columns");
        }
        List<String> row = new ArrayList<>(cells.length);
        for (Object c : cells) {
            row.add(c == null ? "" : c.toString().replaceAll("[\\r\\n\\t]+", " "));
        }
        rows.add(row);
        return this;
    }

    /** Number of rows, the header not counted. */
    int size() {
        return rows.size();
    }

    /** The table, one line per row, each ending with a line break. */
    String render() {
        int[] width = new int[headers.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = headers.get(i).length();
            for (List<String> row : rows) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        line(out, headers, width);
        for (List<String> row : rows) {
            line(out, row, width);
        }
        return out.toString();
    }

    private static void line(StringBuilder out, List<String> cells, int[] width) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                line.append(GAP);
            }
            line.append(cells.get(i));
            if (i < cells.size() - 1) {
                line.append(" ".repeat(width[i] - cells.get(i).length()));
            }
        }
        int end = line.length();
        while (end > 0 && line.charAt(end - 1) == ' ') {
            end--;
        }
        out.append(line, 0, end).append('\n');
    }
}

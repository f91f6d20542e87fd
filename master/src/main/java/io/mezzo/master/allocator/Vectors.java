package io.mezzo.master.allocator;

import java.util.Arrays;

/** Arithmetic on the allocator's scalar vectors ({@code long[]} thousandths indexed by {@link ScalarNames}). */
final class Vectors {

    private Vectors() {}

    static long[] grow(long[] v, int width) {
        return v == null || v.length >= width ? v : Arrays.copyOf(v, width);
    }

    static long at(long[] v, int i) {
        return i < v.length ? v[i] : 0;
    }

    static void add(long[] into, long[] v, int width) {
        for (int i = 0; i < width; i++) {
            into[i] += v[i];
        }
    }

    static void subtract(long[] from, long[] v, int width) {
        for (int i = 0; i < width; i++) {
            from[i] -= v[i];
        }
    }

    /** Adds ({@code sign} 1) or subtracts (-1) {@code s}, which may be shorter than {@code width}. */
    static void addSigned(long[] into, long[] s, int sign, int width) {
        int n = Math.min(width, s.length);
        if (sign > 0) {
            for (int i = 0; i < n; i++) {
                into[i] += s[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                into[i] -= s[i];
            }
        }
    }

    static boolean isZero(long[] v, int width) {
        for (int i = 0; i < width; i++) {
            if (v[i] != 0) {
                return false;
            }
        }
        return true;
    }
}

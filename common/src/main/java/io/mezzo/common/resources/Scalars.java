package io.mezzo.common.resources;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Fixed-point arithmetic for scalar resources: amounts are longs in thousandths ("milli"), so sums
 * and differences are exact. This class converts to and from the decimal text users write.
 */
public final class Scalars {

    /** Thousandths per unit. */
    public static final long SCALE = 1000;

    private Scalars() {}

    /**
     * Parses a decimal such as {@code "0.1"} or {@code "8192"} into thousandths, rounding half up to
     * three decimals as Mesos does.
     *
     * @throws IllegalArgumentException if the text is not a finite, non-negative number that fits
     */
    public static long parse(String text) {
        BigDecimal value;
        try {
            value = new BigDecimal(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a number");
        }
        if (value.signum() < 0) {
            throw new IllegalArgumentException("'" + text + "' is negative");
        }
        try {
            return value.setScale(3, RoundingMode.HALF_UP).movePointRight(3).longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
    }

    /**
     * Converts a double (as given in Mesos-style JSON or by a CLI flag) to thousandths, rounding
     * half up.
     *
     * @throws IllegalArgumentException for NaN, infinities and negative values
     */
    public static long fromDouble(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(value + " is not a finite number");
        }
        if (value < 0) {
            throw new IllegalArgumentException(value + " is negative");
        }
        return parse(BigDecimal.valueOf(value).toPlainString());
    }

    /** Formats thousandths as the shortest exact decimal: 1500 is "1.5", 100 is "0.1". */
    public static String format(long milli) {
        return BigDecimal.valueOf(milli, 3).stripTrailingZeros().toPlainString();
    }

    /** Thousandths as a double, for display and share computations only. */
    public static double toDouble(long milli) {
        return milli / (double) SCALE;
    }
}

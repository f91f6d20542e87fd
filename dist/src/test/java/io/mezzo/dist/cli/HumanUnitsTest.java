package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Human units both ways: what tables print, and what set commands read, exactly. */
@Timeout(10)
class HumanUnitsTest {

    @ParameterizedTest
    @CsvSource({"cpus,500,0.5", "cpus,2000,2", "cpus,1,0.001", "cpus,0,0", "gpus,1000,1",
        "mem,512000,512MB", "mem,1024000,1GB", "mem,1536000,1.5GB", "disk,2097152000,2TB", "mem,0,0MB",
        "mem,500,0.5MB", "disk,1000000000,976.56GB"})
    void amountsPrintInTheirUnit(String name, long milli, String text) {
        assertThat(HumanUnits.format(name, milli)).isEqualTo(text);
    }

    @ParameterizedTest
    @CsvSource({"cpus,0.25,250", "cpus,4,4000", "cpus,.5,500", "mem,512,512000", "mem,512MB,512000",
        "mem,1.5GB,1536000", "mem,1.5gb,1536000", "disk,100GB,102400000", "disk,2TB,2097152000", "mem,8G,8192000",
        "mem,0.001,1", "mem, 64 MiB ,64000"})
    void amountsParseExactly(String name, String text, long milli) {
        assertThat(HumanUnits.parse(name, text)).isEqualTo(milli);
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"cpus;-1;negative", "cpus;lots;not a number", "cpus;2GB;without a unit",
        "mem;3PB;unknown unit 'pb'", "cpus;0.0001;finer than a thousandth", "mem;1.0000001GB;finer than a thousandth",
        "mem;99999999999999999TB;too large", "mem;;not a number"})
    void badAmountsAreRefusedWithAReason(String name, String text, String reason) {
        assertThatThrownBy(() -> HumanUnits.parse(name, text == null ? "" : text))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason).hasMessageStartingWith(name);
    }

    @Test
    void whatIsPrintedParsesBackToTheSameAmountWhenExact() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 1000; i++) {
            // Whole megabytes and whole thousandths of a CPU: what operators set.
            long mem = random.nextInt(1 << 22) * 1000L;
            long cpus = random.nextInt(1_000_000);
            String memText = HumanUnits.format("mem", mem);
            if (HumanUnits.parse("mem", memText) != mem) {
                // Rounded for display (e.g. 976.56GB): never claims more precision than it has.
                assertThat(memText).as("seed %d", seed).matches("[0-9]+(\\.[0-9]{1,2})?[GT]B");
            }
            assertThat(HumanUnits.parse("cpus", HumanUnits.format("cpus", cpus))).as("seed %d", seed).isEqualTo(cpus);
        }
    }

    @Test
    void amountListsParseInOrderAndRefuseRepeats() {
        assertThat(HumanUnits.parseAmounts(List.of("cpus=4", "mem=8GB,disk=100GB")))
                .containsExactly(Map.entry("cpus", 4000L), Map.entry("mem", 8_192_000L), Map.entry("disk", 102_400_000L));
        assertThatThrownBy(() -> HumanUnits.parseAmounts(List.of("cpus=1", "cpus=2"))).hasMessage("cpus is given twice");
        assertThatThrownBy(() -> HumanUnits.parseAmounts(List.of("cpus"))).hasMessageContaining("NAME=AMOUNT");
    }

    @Test
    void timesReadRelativeToNow() {
        Instant now = Instant.parse("2026-12-03T12:00:00Z");
        double epoch = now.getEpochSecond();
        assertThat(HumanUnits.relative(epoch - 45, now)).isEqualTo("45s ago");
        assertThat(HumanUnits.relative(epoch - 180, now)).isEqualTo("3m ago");
        assertThat(HumanUnits.relative(epoch - 7200, now)).isEqualTo("2h ago");
        assertThat(HumanUnits.relative(epoch - 5 * 86400, now)).isEqualTo("5d ago");
        assertThat(HumanUnits.relative(epoch + 600, now)).isEqualTo("in 10m");
        assertThat(HumanUnits.relative(0, now)).isEqualTo("-");
    }

    @Test
    void timesParseAsOperatorsTypeThem() {
        Instant now = Instant.parse("2026-12-03T12:00:00Z");
        assertThat(HumanUnits.parseTime("now", now, ZoneOffset.UTC)).isEqualTo(now);
        assertThat(HumanUnits.parseTime("+30m", now, ZoneOffset.UTC)).isEqualTo(now.plus(Duration.ofMinutes(30)));
        assertThat(HumanUnits.parseTime("in 2h", now, ZoneOffset.UTC)).isEqualTo(now.plus(Duration.ofHours(2)));
        assertThat(HumanUnits.parseTime("2026-12-03T18:00:00Z", now, ZoneOffset.UTC))
                .isEqualTo(Instant.parse("2026-12-03T18:00:00Z"));
        assertThat(HumanUnits.parseTime("2026-12-03 19:00", now, ZoneOffset.ofHours(1)))
                .isEqualTo(Instant.parse("2026-12-03T18:00:00Z"));
        assertThatThrownBy(() -> HumanUnits.parseTime("tomorrowish", now, ZoneOffset.UTC))
                .hasMessageContaining("is not a time");
    }
}

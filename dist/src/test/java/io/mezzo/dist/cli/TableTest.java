package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Tables and short ids as the operator tools print them. */
@Timeout(10)
class TableTest {

    @Test
    void columnsAlignWithoutTrailingSpaces() {
        String out = new Table("ID", "HOSTNAME", "STATE")
                .row("a1b2c3d4", "host-1.example", "REGISTERED")
                .row("ff", "h2", "DRAINING")
                .render();

        assertThat(out).isEqualTo(""
                + "ID         HOSTNAME         STATE\n"
                + "a1b2c3d4   host-1.example   REGISTERED\n"
                + "ff         h2               DRAINING\n");
    }

    @Test
    void cellsStayOnOneLineAndRowsMatchTheHeader() {
        assertThat(new Table("A", "B").row("x\ny", null).render()).isEqualTo("A     B\nx y\n");
        assertThatThrownBy(() -> new Table("A", "B").row("only one")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void idsShortenToTheirShortestUniquePrefixButNotBelowEight() {
        ShortIds ids = new ShortIds(List.of("3f2a9c1b-0000-S1", "3f2a9c1b-0000-S2", "77aa00bb11cc", "short",
                "3f2a9c1b-0000-S10"));

        assertThat(ids.of("77aa00bb11cc")).isEqualTo("77aa00bb");
        assertThat(ids.of("short")).isEqualTo("short");
        assertThat(ids.of("3f2a9c1b-0000-S2")).isEqualTo("3f2a9c1b-0000-S2");
        // A prefix of another id cannot be shortened: it stays whole, and typing it names it exactly.
        assertThat(ids.of("3f2a9c1b-0000-S1")).isEqualTo("3f2a9c1b-0000-S1");
        assertThat(ids.of("3f2a9c1b-0000-S10")).isEqualTo("3f2a9c1b-0000-S10");
    }

    @Test
    void aTypedPrefixNamesTheOneIdItStarts() {
        List<String> all = List.of("3f2a9c1b-S1", "3f2a9c1b-S10", "77aa00bb11cc");
        assertThat(ShortIds.resolve("77aa", all, s -> s, "agent")).isEqualTo("77aa00bb11cc");
        assertThat(ShortIds.resolve("3f2a9c1b-S1", all, s -> s, "agent")).isEqualTo("3f2a9c1b-S1");
        assertThatThrownBy(() -> ShortIds.resolve("3f2a", all, s -> s, "agent"))
                .isInstanceOf(CliFailure.class).hasMessageContaining("names several agents");
        assertThatThrownBy(() -> ShortIds.resolve("zz", all, s -> s, "agent"))
                .isInstanceOf(CliFailure.class).hasMessage("the master knows no agent zz");
    }
}

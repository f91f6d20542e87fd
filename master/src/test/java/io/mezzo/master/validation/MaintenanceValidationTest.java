package io.mezzo.master.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.MaintenanceWindow;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The maintenance schedule's agent ids follow the one id rule (issue 11), as pure functions. */
@Timeout(10)
class MaintenanceValidationTest {

    private static MaintenanceWindow window(String... agents) {
        MaintenanceWindow.Builder w = MaintenanceWindow.newBuilder().setStartTime(1_800_000_000);
        for (String a : agents) {
            w.addAgentIds(AgentID.newBuilder().setValue(a));
        }
        return w.build();
    }

    @Test
    void wellFormedKnownIdsPass() {
        List<MaintenanceWindow> windows = List.of(window("agent-1", "a:b.c_d"));
        assertThat(MaintenanceValidation.validateAgentIds(windows)).isNull();
        assertThat(MaintenanceValidation.validate(windows, id -> true)).isNull();
    }

    @Test
    void idsThatBreakTheRuleAreRefusedBeforeTheKnownCheck() {
        for (String bad : List.of("", "..", "a/b", "a b", "x".repeat(IdValidation.MAX_LENGTH + 1), "agent\n1")) {
            List<MaintenanceWindow> windows = List.of(window("agent-1"), window(bad));
            // a lenient "known" predicate shows the id rule, not the lookup, refuses it
            assertThat(MaintenanceValidation.validateAgentIds(windows)).as("id %s", bad)
                    .startsWith("window 1 agent_id");
            assertThat(MaintenanceValidation.validate(windows, id -> true)).as("id %s", bad)
                    .startsWith("window 1 agent_id");
        }
    }

    @Test
    void aLongBadIdIsCutInTheMessage() {
        String error = MaintenanceValidation.validateAgentIds(List.of(window("%".repeat(10_000))));
        assertThat(error).isNotNull().hasSizeLessThan(1_000);
    }

    @Test
    void unknownAndDuplicateAgentsAreStillRefused() {
        assertThat(MaintenanceValidation.validate(List.of(window("agent-9")), id -> false))
                .isEqualTo("window 0 names unknown agent 'agent-9'");
        assertThat(MaintenanceValidation.validate(List.of(window("agent-1"), window("agent-1")), id -> true))
                .isEqualTo("agent agent-1 is in more than one window");
    }
}

package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.registry.InMemoryRegistry;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.testkit.Loops;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** "Write, persist, apply" on the loop: which failed writes end the term and which do not. */
class LeaderTermTest {

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final EventLoop loop = new EventLoop("master-loop", clock, faults);
    private final List<String> steppedDown = new CopyOnWriteArrayList<>();
    private final List<String> happened = new CopyOnWriteArrayList<>();
    private final InMemoryRegistry registry = new InMemoryRegistry();
    private final LeaderTerm term = new LeaderTerm(loop, clock, steppedDown::add, new MasterMetrics());

    @AfterEach
    void stop() {
        loop.close();
        faults.assertNoFaults();
    }

    private void onLoop(Runnable work) {
        loop.append(work);
        Loops.settle(loop::barrier);
        Loops.settle(loop::barrier);
    }

    @Test
    void aRecordThatCanNeverBeWrittenIsRefusedWithoutSteppingDown() {
        onLoop(() -> term.begin(MasterInfo.newBuilder().setId("m").setEpoch(1).build(), registry));
        onLoop(() -> term.persist(List.of(RegistryOp.put("agents", "..", new byte[1])), "agent ..",
                () -> happened.add("applied"), reason -> happened.add("refused: " + reason)));
        assertThat(happened).containsExactly("refused: registry key agents/.. is not a valid record name");
        assertThat(steppedDown).isEmpty();
        assertThat(term.acting()).isTrue();

        onLoop(() -> term.persist(List.of(RegistryOp.put("frameworks", "f1", new byte[RegistryOp.MAX_VALUE_BYTES + 1])),
                "framework f1", () -> happened.add("applied"), reason -> happened.add("refused big")));
        onLoop(() -> term.persist(List.of(RegistryOp.put("agents", "a1", new byte[1])), "agent a1",
                () -> happened.add("applied a1")));
        assertThat(happened).endsWith("refused big", "applied a1");
        assertThat(steppedDown).isEmpty();
    }

    @Test
    void aWriteThatFailsForAnyOtherReasonStillEndsTheTerm() {
        onLoop(() -> term.begin(MasterInfo.newBuilder().setId("m").setEpoch(1).build(), registry));
        registry.close();
        onLoop(() -> term.persist(List.of(RegistryOp.put("agents", "a1", new byte[1])), "agent a1",
                () -> happened.add("applied")));
        assertThat(happened).isEmpty();
        assertThat(steppedDown).singleElement().asString().contains("registry closed");
    }
}

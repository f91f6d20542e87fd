package io.mezzo.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.testkit.Protos;
import org.junit.jupiter.api.Test;

/** Packing tasks into one offer: pure, no threads. */
class OfferPackerTest {

    @Test
    void packsUntilFullAndSaysWhatIsLeftExactly() {
        OfferPacker packer = OfferPacker.of(Protos.offer("o1", "a1", "cpus:0.3;mem:100"));
        assertThat(packer.add(task("t1"))).isTrue();
        assertThat(packer.add(task("t2"))).isTrue();
        assertThat(packer.add(task("t3"))).isTrue();
        assertThat(packer.remaining()).isEqualTo(ResourceText.parse("mem:4"));
        assertThat(packer.add(task("t4"))).as("no cpus left").isFalse();
        assertThat(packer.tasks()).extracting(t -> t.getTaskId().getValue()).containsExactly("t1", "t2", "t3");
        assertThat(packer.tasks()).allSatisfy(t -> assertThat(t.getAgentId()).isEqualTo(Ids.agent("a1")));
    }

    @Test
    void fillsTheOfferRoleAndKeepsAGivenOne() {
        Offer offer = Protos.offer("o1", "a1", "cpus:1;mem:100").toBuilder()
                .clearResources()
                .addAllResources(ResourceText.parse("cpus:1;mem:100").toProto("eng"))
                .build();
        OfferPacker packer = OfferPacker.of(offer);
        assertThat(packer.role()).isEqualTo("eng");
        assertThat(packer.add(task("t1"))).isTrue();
        assertThat(packer.tasks().get(0).getResourcesList())
                .allSatisfy(r -> assertThat(r.getAllocationInfo().getRole()).isEqualTo("eng"));
    }

    @Test
    void aTaskForAnotherAgentIsRefused() {
        OfferPacker packer = OfferPacker.of(Protos.offer("o1", "a1", "cpus:1;mem:100"));
        TaskInfo elsewhere = task("t1").toBuilder().setAgentId(Ids.agent("a2")).build();
        assertThatThrownBy(() -> packer.add(elsewhere)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("agent a2");
        assertThat(packer.isEmpty()).isTrue();
    }

    @Test
    void idsAreWrappedAndAttemptsNumbered() {
        assertThat(Ids.task("x", 2).getValue()).isEqualTo("x.2");
        assertThatThrownBy(() -> Ids.task("x", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Ids.task("")).isInstanceOf(IllegalArgumentException.class);
    }

    private static TaskInfo task(String id) {
        return TaskSpec.shell(id, "true", "cpus:0.1;mem:32").taskInfo(Ids.task(id));
    }
}

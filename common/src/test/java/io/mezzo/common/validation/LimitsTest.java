package io.mezzo.common.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.resources.ResourceBounds;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Label;
import io.mezzo.proto.v1.Labels;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shared edge rules: the id rule, length limits, resource bounds, overflow-safe sums. */
class LimitsTest {

    @Test
    void theIdRuleRefusesPathsAndHugeIds() {
        assertThat(Ids.isValid("m1-S1")).isTrue();
        assertThat(Ids.isValid("task.1:a_b")).isTrue();
        assertThat(Ids.isValid("..")).isFalse();
        assertThat(Ids.isValid(".")).isFalse();
        assertThat(Ids.isValid("a/b")).isFalse();
        assertThat(Ids.isValid("x".repeat(256))).isFalse();
        assertThat(Ids.validate("agent_id", "x".repeat(300_000)))
                .startsWith("agent_id 'xxxx").contains("...[299744 more characters]").hasSizeLessThan(400);
    }

    @Test
    void lengthsAndLabelsNameTheFieldAndTheLimit() {
        assertThat(Limits.length("name", "x".repeat(1025), Limits.NAME))
                .isEqualTo("name has 1025 characters, more than the limit of 1024");
        assertThat(Limits.length("name", "x".repeat(1024), Limits.NAME)).isNull();
        Labels.Builder labels = Labels.newBuilder();
        labels.addLabels(Label.newBuilder().setKey("k").setValue("v".repeat(1025)));
        assertThat(Limits.labels("labels", labels.build()))
                .isEqualTo("labels 'k' value has 1025 characters, more than the limit of 1024");
    }

    @Test
    void shownFieldsAreBoundedSingleLines() {
        assertThat(Limits.shown("a\nb")).isEqualTo("a\\u000ab");
        assertThat(Limits.shown("y".repeat(1000))).hasSize(256 + "...[744 more characters]".length());
        assertThat(Limits.cut("z".repeat(5000), 4096)).endsWith("...[904 more characters]");
    }

    @Test
    void agentMaximaAndTaskMinimaNameTheUnit() {
        assertThat(ResourceBounds.checkAgent(ResourceText.parse("cpus:100000;mem:100000000").toProto())).isNull();
        assertThat(ResourceBounds.checkAgent(ResourceText.parse("cpus:100001").toProto()))
                .isEqualTo("resource 'cpus' of 100001 is more than one agent may advertise (100000)");
        assertThat(ResourceBounds.checkAgent(ResourceText.parse("mem:100000001").toProto()))
                .contains("100000001 MB").contains("(100000000 MB)");
        assertThat(ResourceBounds.checkTask(ResourceText.parse("cpus:1;mem:0.032")))
                .isEqualTo("asks for 0.032 MB of mem, below the minimum of 32 MB (mem is in MB)");
        assertThat(ResourceBounds.checkTask(ResourceText.parse("cpus:0.001;mem:32"))).contains("0.001 of cpus");
        assertThat(ResourceBounds.checkTask(ResourceText.parse("cpus:0.01;mem:32"))).isNull();
    }

    @Test
    void aListWhoseAmountsOverflowIsInvalidAndDisplayedSumsSaturate() {
        Resource max = Resource.newBuilder().setName("cpus").setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(Long.MAX_VALUE)).build();
        assertThat(ResourceValidation.validate(List.of(max, max))).contains("adds up to more than 2^63-1");
        Resources big = Resources.scalars("cpus", Long.MAX_VALUE - 1);
        assertThat(big.plusScalarsCapped(big).scalar("cpus")).isEqualTo(Long.MAX_VALUE);
    }
}

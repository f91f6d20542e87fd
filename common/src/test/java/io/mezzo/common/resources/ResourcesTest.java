package io.mezzo.common.resources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.Value;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

class ResourcesTest {

    @Test
    void tenthsOfACpuAddUpExactly() {
        Resources sum = Resources.EMPTY;
        Resources tenth = Resources.scalars("cpus", 100);
        for (int i = 0; i < 10; i++) {
            sum = sum.plus(tenth);
        }
        assertThat(sum).isEqualTo(Resources.scalars("cpus", 1000));
        assertThat(sum.toString()).isEqualTo("cpus:1");
        for (int i = 0; i < 10; i++) {
            sum = sum.minus(tenth);
        }
        assertThat(sum.isEmpty()).isTrue();
    }

    @Test
    void intersectionKeepsWhatBothHoldPerReservation() {
        Resources a = ResourceText.parse("cpus:2;mem:512;ports:[31000-31009];cpus(eng):1;disks:{a,b}");
        Resources b = ResourceText.parse("cpus:1.5;ports:[31005-31020];cpus(ops):1;disks:{b,c}");
        assertThat(a.intersection(b)).isEqualTo(ResourceText.parse("cpus:1.5;ports:[31005-31009];disks:{b}"));
        assertThat(b.intersection(a)).isEqualTo(a.intersection(b));
        assertThat(a.intersection(Resources.EMPTY).isEmpty()).isTrue();
    }

    @Test
    void minusPresentTakesAwayOnlyWhatIsThere() {
        Resources a = ResourceText.parse("cpus:2;mem:512;ports:[31000-31009]");
        Resources b = ResourceText.parse("cpus:3;ports:[31005-31020];gpus:1");
        assertThat(a.minusPresent(b)).isEqualTo(ResourceText.parse("mem:512;ports:[31000-31004]"));
        assertThat(a.minusPresent(Resources.EMPTY)).isSameAs(a);
    }

    @Test
    void minusRefusesToGoNegative() {
        Resources one = Resources.scalars("cpus", 1000);
        assertThatThrownBy(() -> one.minus(Resources.scalars("cpus", 1001)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> one.minus(Resources.scalars("mem", 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void withoutReservationsKeepsTheAmountsAndDropsTheRoles() {
        Resources r = ResourceText.parse("cpus:1;cpus(eng):2;mem(ops):512;ports(eng):[31000-31009];ports:[32000-32000]");
        assertThat(r.withoutReservations())
                .isEqualTo(ResourceText.parse("cpus:3;mem:512;ports:[31000-31009,32000-32000]"));
        assertThat(Resources.EMPTY.withoutReservations().isEmpty()).isTrue();
    }

    @Test
    void reservedAndUnreservedAreDistinct() {
        Resources r = ResourceText.parse("cpus:4;cpus(eng):2;mem:1024");
        assertThat(r.scalar(Resources.CPUS)).isEqualTo(6000);
        assertThat(r.unreserved()).isEqualTo(ResourceText.parse("cpus:4;mem:1024"));
        assertThat(r.reservedFor("eng")).isEqualTo(ResourceText.parse("cpus(eng):2"));
        assertThat(r.contains(ResourceText.parse("cpus(eng):3"))).isFalse();
        assertThat(r.contains(ResourceText.parse("cpus:4"))).isTrue();
    }

    @Test
    void rangesAndSetsAddAndSubtract() {
        Resources r = ResourceText.parse("ports:[31000-31010];disks:{a,b,c}");
        Resources used = ResourceText.parse("ports:[31003-31004];disks:{b}");
        Resources left = r.minus(used);
        assertThat(left.toString()).isEqualTo("disks:{a,c};ports:[31000-31002, 31005-31010]");
        assertThat(left.plus(used)).isEqualTo(r);
    }

    @Test
    void protoRoundTripKeepsEverything() {
        Resources r = ResourceText.parse("cpus:1.5;mem:128;ports:[1-2, 5-9];cpus(eng/web):0.25;gpus:{g0}");
        List<Resource> proto = r.toProto("eng");
        assertThat(proto).allSatisfy(p -> assertThat(p.getAllocationInfo().getRole()).isEqualTo("eng"));
        assertThat(ResourceValidation.validate(proto)).isNull();
        assertThat(Resources.fromProto(proto)).isEqualTo(r);
    }

    @Test
    void validationNamesWhatIsWrong() {
        Resource noType = Resource.newBuilder().setName("cpus").build();
        assertThat(ResourceValidation.validateOne(noType)).contains("'cpus'").contains("no type");
        Resource negative = Resource.newBuilder().setName("cpus").setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(-1)).build();
        assertThat(ResourceValidation.validateOne(negative)).contains("negative");
        Resource badRange = Resource.newBuilder().setName("ports").setType(Value.Type.RANGES)
                .setRanges(Value.Ranges.newBuilder().addRange(Value.Range.newBuilder().setBegin(5).setEnd(1))).build();
        assertThat(ResourceValidation.validateOne(badRange)).contains("end is before its begin");
        Resource starReserved = Resource.newBuilder().setName("cpus").setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(1))
                .setReservation(ReservationInfo.newBuilder().setRole("*").setType(ReservationInfo.Type.DYNAMIC)).build();
        assertThat(ResourceValidation.validateOne(starReserved)).contains("'*'");
    }

    /** Random sums and differences of port ranges agree with a bitmap model. */
    @RepeatedTest(50)
    void rangeArithmeticMatchesABitmapModel(RepetitionInfo info) {
        long seed = 7919L * info.getCurrentRepetition();
        Random random = new Random(seed);
        boolean[] a = new boolean[200];
        boolean[] b = new boolean[200];
        RangeSet ra = randomRanges(random, a);
        RangeSet rb = randomRanges(random, b);
        RangeSet diff = ra.minus(rb);
        RangeSet union = ra.plus(rb);
        long diffCount = 0;
        long unionCount = 0;
        boolean bInA = true;
        for (int i = 0; i < 200; i++) {
            if (a[i] && !b[i]) {
                diffCount++;
            }
            if (a[i] || b[i]) {
                unionCount++;
            }
            if (b[i] && !a[i]) {
                bInA = false;
            }
            assertThat(diff.contains(RangeSet.of(i, i))).as("seed %d, %d in a-b", seed, i).isEqualTo(a[i] && !b[i]);
        }
        assertThat(diff.size()).as("seed %d", seed).isEqualTo(diffCount);
        assertThat(union.size()).as("seed %d", seed).isEqualTo(unionCount);
        assertThat(ra.contains(rb)).as("seed %d", seed).isEqualTo(bInA);
        assertThat(diff.plus(rb).contains(ra)).as("seed %d", seed).isTrue();
    }

    private static RangeSet randomRanges(Random random, boolean[] bits) {
        RangeSet set = RangeSet.EMPTY;
        int n = random.nextInt(6);
        for (int i = 0; i < n; i++) {
            int begin = random.nextInt(200);
            int end = Math.min(199, begin + random.nextInt(30));
            set = set.plus(RangeSet.of(begin, end));
            for (int j = begin; j <= end; j++) {
                bits[j] = true;
            }
        }
        return set;
    }
}

package io.mezzo.master.allocator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The seeded order of agent slots: a permutation, its inverse, and no slot always first. */
class VisitOrderTest {

    @ParameterizedTest(name = "{0} slots")
    @ValueSource(ints = {1, 2, 3, 7, 16, 17, 1000, 50_000})
    void everySlotHasExactlyOnePlaceAndSlotAtInvertsKeyOf(int slots) {
        for (long seed = -3; seed < 20; seed++) {
            VisitOrder order = new VisitOrder(seed, slots);
            assertThat(order.size()).isGreaterThanOrEqualTo(slots).isLessThanOrEqualTo(Math.max(2, 2L * slots));
            Set<Long> places = new HashSet<>();
            for (int slot = 0; slot < order.size(); slot++) {
                long key = order.keyOf(slot);
                assertThat(key).isBetween(0L, order.size() - 1);
                assertThat(places.add(key)).as("seed %s: place %s taken twice", seed, key).isTrue();
                assertThat(order.slotAt(key)).isEqualTo(slot);
            }
        }
    }

    @Test
    void everyAgentIsFirstForSomeSeeds() {
        int slots = 10;
        int[] first = new int[slots];
        for (long seed = 0; seed < 2_000; seed++) {
            VisitOrder order = new VisitOrder(seed, slots);
            for (long place = 0; place < order.size(); place++) {
                int slot = order.slotAt(place);
                if (slot < slots) {
                    first[slot]++;
                    break;
                }
            }
        }
        // 2,000 cycles over 10 agents: 200 each if uniform; the mix is not, but none is starved.
        for (int slot = 0; slot < slots; slot++) {
            assertThat(first[slot]).as("cycles that visit slot %s first", slot).isGreaterThan(50);
        }
    }
}

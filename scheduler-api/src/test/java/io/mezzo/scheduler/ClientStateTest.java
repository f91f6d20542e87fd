package io.mezzo.scheduler;

import static io.mezzo.scheduler.ClientState.BACKING_OFF;
import static io.mezzo.scheduler.ClientState.CONNECTING;
import static io.mezzo.scheduler.ClientState.NEW;
import static io.mezzo.scheduler.ClientState.NO_LEADER;
import static io.mezzo.scheduler.ClientState.STOPPED;
import static io.mezzo.scheduler.ClientState.SUBSCRIBED;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ClientStateTest {

    @Test
    void subscriptionGoesThroughConnecting() {
        assertThat(NEW.canMoveTo(SUBSCRIBED)).isFalse();
        assertThat(BACKING_OFF.canMoveTo(SUBSCRIBED)).isFalse();
        assertThat(NEW.canMoveTo(CONNECTING)).isTrue();
        assertThat(CONNECTING.canMoveTo(SUBSCRIBED)).isTrue();
        assertThat(SUBSCRIBED.canMoveTo(BACKING_OFF)).isTrue();
        assertThat(BACKING_OFF.canMoveTo(CONNECTING)).isTrue();
        assertThat(NO_LEADER.canMoveTo(CONNECTING)).isTrue();
    }

    @ParameterizedTest
    @EnumSource(ClientState.class)
    void everyStateCanStopAndStoppedIsTerminal(ClientState state) {
        assertThat(STOPPED.canMoveTo(state)).isFalse();
        if (state != STOPPED) {
            assertThat(state.canMoveTo(STOPPED)).isTrue();
        }
    }

    @Test
    void onlyConnectingAndSubscribedHaveAStream() {
        assertThat(Arrays.stream(ClientState.values()).filter(ClientState::hasStream))
                .containsExactly(CONNECTING, SUBSCRIBED);
    }
}

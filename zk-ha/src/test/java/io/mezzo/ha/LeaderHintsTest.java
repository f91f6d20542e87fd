package io.mezzo.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.proto.v1.MasterInfo;
import org.junit.jupiter.api.Test;

class LeaderHintsTest {

    @Test
    void hostAndPortNameAMaster() {
        MasterInfo m = LeaderHints.parse("10.0.0.12:5050");
        assertThat(m.getIp()).isEqualTo("10.0.0.12");
        assertThat(m.getHostname()).isEqualTo("10.0.0.12");
        assertThat(m.getPort()).isEqualTo(5050);
        assertThat(m.getId()).isEmpty();
        assertThat(LeaderHints.parse("master-2.prod.example.com:1").getHostname()).isEqualTo("master-2.prod.example.com");
        assertThat(LeaderHints.parse("[::1]:65535").getIp()).isEqualTo("::1");
        assertThat(LeaderHints.parse("[fe80::1:2]:5050").getPort()).isEqualTo(5050);
    }

    @Test
    void anythingButHostAndPortIsRefusedWithTheReason() {
        assertThatThrownBy(() -> LeaderHints.parse("")).hasMessage("leader hint is empty");
        assertThatThrownBy(() -> LeaderHints.parse(null)).hasMessage("leader hint is empty");
        assertThatThrownBy(() -> LeaderHints.parse("zk://10.0.0.1:2181/mezzo"))
                .hasMessageContaining("has a character a host:port cannot have at position 3");
        assertThatThrownBy(() -> LeaderHints.parse("user:pw@10.0.0.1:5050")).hasMessageContaining("cannot have");
        assertThatThrownBy(() -> LeaderHints.parse("10.0.0.1:5050 ")).hasMessageContaining("cannot have");
        assertThatThrownBy(() -> LeaderHints.parse("10.0.0.1")).hasMessageContaining("is not host:port");
        assertThatThrownBy(() -> LeaderHints.parse(":5050")).hasMessageContaining("is not host:port");
        assertThatThrownBy(() -> LeaderHints.parse("h:")).hasMessageContaining("is not host:port");
        assertThatThrownBy(() -> LeaderHints.parse("h:0")).hasMessageContaining("port 0 outside 1-65535");
        assertThatThrownBy(() -> LeaderHints.parse("h:65536")).hasMessageContaining("outside 1-65535");
        assertThatThrownBy(() -> LeaderHints.parse("h:9999999999")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> LeaderHints.parse("-h:5050")).hasMessageContaining("invalid host name");
        assertThatThrownBy(() -> LeaderHints.parse("a..b:5050")).hasMessageContaining("invalid host name");
        assertThatThrownBy(() -> LeaderHints.parse("::1:5050")).hasMessageContaining("IPv6 address without brackets");
        assertThatThrownBy(() -> LeaderHints.parse("[::1:5050")).hasMessageContaining("not [address]");
        assertThatThrownBy(() -> LeaderHints.parse("[x-y]:5050")).hasMessageContaining("invalid IPv6 address");
        assertThatThrownBy(() -> LeaderHints.parse("a".repeat(64) + ".b:1")).hasMessageContaining("invalid host name");
    }

    @Test
    void aRefusedHintIsQuotedShortAndPrintable() {
        String hostile = "evil\n\u001b[31m" + "x".repeat(500) + ":1";
        assertThatThrownBy(() -> LeaderHints.parse(hostile))
                .hasMessageContaining("is longer than 259 characters")
                .hasMessageContaining("evil\\u000a\\u001b[31mxxx")
                .hasMessageContaining("...")
                .message().doesNotContain("\n").hasSizeLessThan(150);
        assertThatThrownBy(() -> LeaderHints.parse("bad\rhint:1")).message().doesNotContain("\r");
    }
}

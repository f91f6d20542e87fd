package io.mezzo.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.proto.v1.MasterInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MasterDetectorsTest {

    @Test
    void hostAndPortGiveAStandaloneLeader() {
        try (MasterDetector d = MasterDetectors.fromAddress("127.0.0.1:5050")) {
            List<Optional<MasterInfo>> seen = new ArrayList<>();
            d.addListener(seen::add);
            assertThat(seen).singleElement().satisfies(m -> {
                assertThat(m).isPresent();
                assertThat(m.get().getIp()).isEqualTo("127.0.0.1");
                assertThat(m.get().getPort()).isEqualTo(5050);
            });
        }
    }

    @Test
    void badAddressesSayWhatIsWrong() {
        assertThatThrownBy(() -> MasterDetectors.fromAddress("localhost")).hasMessageContaining("is not host:port");
        assertThatThrownBy(() -> MasterDetectors.fromAddress("h:x")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> MasterDetectors.fromAddress("h:70000")).hasMessageContaining("outside 1-65535");
        assertThatThrownBy(() -> MasterDetectors.fromAddress(" ")).hasMessageContaining("empty");
    }

    @Test
    void zkUrlsAreParsedTheMesosWay() {
        io.mezzo.ha.zk.ZkUrl url = io.mezzo.ha.zk.ZkUrl.parse("zk://ops:secret@h1:2181,h2:2182/mezzo/prod/");
        assertThat(url.connectString()).isEqualTo("h1:2181,h2:2182");
        assertThat(url.path()).isEqualTo("/mezzo/prod");
        assertThat(url.namespace()).isEqualTo("mezzo/prod");
        assertThat(url.credentials()).isEqualTo("ops:secret");
        assertThat(url.toString()).isEqualTo("zk://ops:***@h1:2181,h2:2182/mezzo/prod").doesNotContain("secret");
        assertThatThrownBy(() -> io.mezzo.ha.zk.ZkUrl.parse("zk://h1:2181")).hasMessageContaining("no hosts or no path");
        assertThatThrownBy(() -> io.mezzo.ha.zk.ZkUrl.parse("zk://h1:2181/")).hasMessageContaining("empty path");
        assertThatThrownBy(() -> io.mezzo.ha.zk.ZkUrl.parse("zk://h1/mezzo")).hasMessageContaining("not host:port");
        assertThatThrownBy(() -> MasterDetectors.fromAddress("zk://h1:99999/m")).hasMessageContaining("invalid port");
    }

    @Test
    void aZkUrlWithoutCuratorOnTheClassPathNamesTheDependencyToAdd() {
        String url = "zk://ops:secret@127.0.0.1:2181/mezzo";
        assertThatThrownBy(() -> MasterDetectors.fromAddress(url, name -> false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("org.apache.zookeeper.ZooKeeper is not on the class path")
                .hasMessageContaining("add the Maven dependency io.mezzo:mezzo-zk-ha")
                .hasMessageContaining("or give the master as host:port")
                .hasMessageContaining("zk://ops:***@127.0.0.1:2181/mezzo")
                .message().doesNotContain("secret");
        // Curator is not needed: the light reader is a plain ZooKeeper client.
        try (MasterDetector d = MasterDetectors.fromAddress(url, name -> !name.startsWith("org.apache.curator."))) {
            assertThat(d).isInstanceOf(io.mezzo.ha.zk.ZkLeaderReader.class);
        }
        // The address is still checked first, and host:port needs nothing of Curator.
        assertThatThrownBy(() -> MasterDetectors.fromAddress("zk://h1:2181", name -> false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no hosts or no path");
        try (MasterDetector d = MasterDetectors.fromAddress("127.0.0.1:5050", name -> false)) {
            assertThat(d).isInstanceOf(StandaloneMasterDetector.class);
        }
    }

    @Test
    void theClassesTheZkCheckLooksForExistWhereCuratorIs() {
        // Guards the check against a renamed class: here Curator is on the class path, so every name
        // must resolve, or zk:// would be refused everywhere.
        for (String name : MasterDetectors.ZK_CLASSES) {
            assertThat(name).satisfies(n -> Class.forName(n, false, getClass().getClassLoader()));
        }
    }
}

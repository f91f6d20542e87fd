package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.ha.zk.EmbeddedZooKeeper;
import io.mezzo.master.Master;
import io.mezzo.testkit.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mezzo dev --masters 3}: three masters on the embedded ZooKeeper, and Enter kills the leader. */
class DevMastersTest {

    @TempDir
    Path work;

    @Test
    void enterKillsTheLeaderAnotherLeadsAndTheKilledOneComesBackAsAStandby() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start("127.0.0.1", 0, work.resolve("zk"));
                DevMasters masters = new DevMasters(3, "zk://" + zk.connectString() + "/mezzo", 0, 0,
                        reason -> {
                            throw new AssertionError("only one master stops the cluster");
                        });
                PipedOutputStream keyboard = new PipedOutputStream();
                PipedInputStream stdin = new PipedInputStream(keyboard)) {
            masters.start();
            Master first = masters.leader().orElseThrow();
            long firstEpoch = first.info().getEpoch();
            int firstPort = first.port();
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            masters.killLeaderOnEachLine(stdin, new PrintStream(printed, true, StandardCharsets.UTF_8));

            keyboard.write('\n');
            keyboard.flush();

            await().atMost(Timeouts.FAILOVER).until(() -> printed.toString(StandardCharsets.UTF_8).contains("Restarted"));
            Master second = masters.leader().orElseThrow();
            assertThat(second).isNotSameAs(first);
            assertThat(second.info().getEpoch()).isGreaterThan(firstEpoch);
            int standbys = 0;
            for (int i = 0; i < masters.count(); i++) {
                assertThat(masters.master(i)).isNotSameAs(first);
                standbys += masters.master(i).isLeading() ? 0 : 1;
            }
            assertThat(standbys).as("the killed master is back, not leading").isEqualTo(2);
            assertThat(printed.toString(StandardCharsets.UTF_8))
                    .contains("Killing the leading master 127.0.0.1:" + firstPort)
                    .contains("New leading master: 127.0.0.1:" + second.port());
        }
    }
}

package io.mezzo.scheduler;

import io.mezzo.ha.zk.ZkUrl;
import org.apache.curator.framework.CuratorFramework;

/**
 * Classes that break the layering rules on purpose, so {@link SchedulerApiLayeringTest} can show
 * that each rule fails when broken. Test sources only: the rules' real run leaves them out.
 */
public final class ArchFixtures {

    private ArchFixtures() {}

    /** Breaks "only proto, common and the detector types": reaches into zk-ha's ZooKeeper code. */
    static final class ReachesIntoZk {
        ZkUrl url() {
            return ZkUrl.parse("zk://127.0.0.1:2181/mezzo");
        }
    }

    /** Breaks "never Curator". */
    static final class UsesCurator {
        CuratorFramework client;
    }

    /** Breaks "the public surface is public", in a method, a field and a constructor. */
    public static final class ExposesInternals {
        public Subscription subscription;

        public ExposesInternals(Subscription subscription) {
            this.subscription = subscription;
        }

        public ClientState state() {
            return ClientState.NEW;
        }
    }

    /** Package-private: a public class must not extend it. */
    static class ClientStateHolder {}

    /** Breaks "the public surface is public" through its superclass. */
    public static final class ExtendsInternals extends ClientStateHolder {}
}

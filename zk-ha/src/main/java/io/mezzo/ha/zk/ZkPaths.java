package io.mezzo.ha.zk;

/** The znodes under a Mezzo root. */
public final class ZkPaths {

    /** LeaderLatch participants. */
    public static final String ELECTION = "/election";
    /** The leadership epoch: a decimal number; its znode version fences registry writes. */
    public static final String EPOCH = "/epoch";
    /** The leader's MasterInfo as JSON (ephemeral, owned by the leader's session). */
    public static final String LEADER = "/leader";
    /** Registry collections: one znode per record under /registry/&lt;collection&gt;/&lt;key&gt;. */
    public static final String REGISTRY = "/registry";

    private ZkPaths() {}
}

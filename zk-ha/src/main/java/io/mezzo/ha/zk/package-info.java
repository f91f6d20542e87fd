/**
 * ZooKeeper specifics: {@code zk://} URLs, Curator clients, the leader znode and its detector, and
 * the embedded ZooKeeper server of {@code mezzo dev}. Curator's threads call back here; callbacks
 * only update thread-safe state or enqueue.
 */
package io.mezzo.ha.zk;

/**
 * Finding the leading master: {@link io.mezzo.ha.MasterDetector} and its standalone and ZooKeeper
 * forms, built from a {@code --master} address by {@link io.mezzo.ha.MasterDetectors}, and {@link
 * io.mezzo.ha.LeaderHints}, which validates the "the leader is host:port" hint of a master that
 * does not lead. The types of this package use no Curator class, so the scheduler library can ship
 * without ZooKeeper; only a {@code zk://} address reaches {@code io.mezzo.ha.zk}. Detectors are thread-safe; their listeners run
 * on the detector's thread and must only enqueue.
 */
package io.mezzo.ha;

/**
 * Leader election with epochs: a master takes part, and when elected gets a registry fenced by its
 * epoch; on ZooKeeper SUSPENDED it is told to stop acting, on LOST to give up for good. Listener
 * callbacks run on the election's (Curator's) thread and must only enqueue to the master's loop.
 */
package io.mezzo.ha.election;

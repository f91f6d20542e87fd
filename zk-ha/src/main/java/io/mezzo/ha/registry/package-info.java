/**
 * The fenced registry: the master's hard state (agents, frameworks, role settings) as batched,
 * atomic writes that fail unless the writer's epoch is still the leader's. Writes are
 * asynchronous; their futures complete on ZooKeeper's threads, and the master moves back to its
 * loop before it applies anything.
 */
package io.mezzo.ha.registry;

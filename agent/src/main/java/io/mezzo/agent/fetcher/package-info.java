/**
 * The fetcher: downloads or copies a task's {@code CommandInfo.uris} into its sandbox before its command
 * starts, extracts archives, and keeps an optional LRU cache of downloads keyed by URI.
 *
 * <p>Threads: thread-safe; it blocks on the network and the disk, so the task launcher calls it on a
 * worker, never on the agent's loop.
 */
package io.mezzo.agent.fetcher;

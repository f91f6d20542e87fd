/**
 * Logback pieces of the daemons' "one line per event" logs: {@link
 * io.mezzo.dist.logging.OneLineThrowableConverter} prints the exceptions of third-party clients
 * (ZooKeeper, Curator) on the line of their message. Used by conf/logback.xml and by the command
 * line's logging options; Logback calls them on the logging thread.
 */
package io.mezzo.dist.logging;

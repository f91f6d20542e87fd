/**
 * The injected source of time: core code reads {@link io.mezzo.common.clock.Clock}, never the
 * system clock, so that tests drive every timeout by advancing a manual clock. Thread-safe;
 * shared by every thread of a daemon.
 */
package io.mezzo.common.clock;

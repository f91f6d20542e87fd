/**
 * Quiet logging defaults for frameworks that use logback without configuring it: see {@link
 * io.mezzo.scheduler.logback.QuietDefaults}. Nothing here is called by framework code.
 */
package io.mezzo.scheduler.logback;

/**
 * Exact resource arithmetic: {@link io.mezzo.common.resources.Resources} keeps scalars in
 * fixed-point thousandths, ranges and sets, keyed by name and reservation, and never goes
 * negative; {@code ResourceValidation} checks untrusted resources at the edge; {@code
 * ResourceText} reads and writes the Mesos text form. Immutable values and pure functions; any
 * thread.
 */
package io.mezzo.common.resources;

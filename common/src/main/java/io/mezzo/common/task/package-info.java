/**
 * Rules about tasks shared by every daemon and by the scheduler library (which states are
 * terminal). Pure functions; any thread.
 */
package io.mezzo.common.task;

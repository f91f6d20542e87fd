/**
 * The framework behind {@code mezzo run}: it subscribes, launches one command task on the first
 * offer that fits, prints every state change and ends with the task's exit code. Its callbacks run
 * on the scheduler client's thread.
 */
package io.mezzo.dist.run;

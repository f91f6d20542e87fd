/**
 * The framework behind {@code mezzo run}: it subscribes, launches one command task on the first
 * offer that fits, prints every state change, launches again a task that was never started, and
 * ends with the task's exit code or with a code of its own when a bound passes (no master, no
 * offer, an unreachable agent, {@code --timeout}). Its callbacks run on the scheduler client's
 * thread and only append to its own loop ({@code mezzo-run}), which holds its state and timers.
 */
package io.mezzo.dist.run;

/**
 * Sandbox garbage collection: {@link io.mezzo.agent.gc.SandboxGc} removes a forgotten task's sandbox
 * after {@code --gc_delay}, or sooner while the work directory's file system is fuller than {@code
 * --gc_disk_watermark}.
 *
 * <p>Threads: the agent's event loop (its timer is a loop timer); deletions run on workers and report
 * back to the loop.
 */
package io.mezzo.agent.gc;

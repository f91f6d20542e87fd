/**
 * How a task's command runs: {@link io.mezzo.agent.containerizer.Containerizer} launches it under the
 * launcher script in a sandbox, isolated by an {@link io.mezzo.agent.containerizer.Isolator} (cgroups or
 * posix), kills it, notices its exit (or, after an agent restart, recovers it from its pid and start
 * time), and cleans up what it left; {@link io.mezzo.agent.containerizer.UsageMonitor} samples the running
 * containers and enforces their memory and disk. Also: sandboxes, the task environment and user, and
 * {@code /proc}. The flow is drawn in this package's {@code README.md}.
 *
 * <p>Threads: the containerizer and the usage monitor live on the agent's event loop (process exits,
 * samples and disk measurements are handed back to it as events); the value types are immutable, and the
 * helpers that block ({@code DiskUsage}, {@code ProcTable}, {@code TaskUser.lookup}, sampling) are called
 * on workers. This package knows nothing of tasks' state, status updates or the master: it does not
 * depend on the agent's core, {@code status} or {@code link} ({@code AgentArchitectureTest}).
 */
package io.mezzo.agent.containerizer;

/**
 * Task health checks, with Mesos' semantics: {@link io.mezzo.agent.health.HealthMonitor} keeps one
 * {@link io.mezzo.agent.health.HealthChecker} per running task that has a {@code health_check}, whose
 * {@link io.mezzo.agent.health.HealthProbes probe} (command, HTTP or TCP) runs off the loop; the monitor
 * tells the agent's core when a task's health changes or it fails its threshold.
 *
 * <p>Threads: the monitor and the checkers live on the agent's event loop (their timers are loop timers
 * on its clock); probes run on workers and hand their results back as loop events.
 */
package io.mezzo.agent.health;

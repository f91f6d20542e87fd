/**
 * The Mezzo agent: one per host. It registers with the leading master, runs the command tasks the
 * master sends it, each in a sandbox, under a launcher that leads its own session, inside a cgroup, and
 * reports every change of a task's state until the framework acknowledges it. Tasks of frameworks that
 * checkpoint survive the agent's restarts.
 *
 * <p>This package is the agent's core: {@link io.mezzo.agent.Agent} (the public lifecycle: start, close,
 * wiring), {@link io.mezzo.agent.AgentConfig}, the gRPC edge {@code AgentOperatorService}, and on the
 * loop {@code AgentCore} (the dispatcher) with the rooms it dispatches to:
 *
 * <pre>
 *   class               owns                                        writes under meta/ (Checkpointer)
 *   -----               ----                                        ---------------------------------
 *   AgentCore           registration (master, registered), timers   agent.info
 *   TaskLauncher        nothing: RUN_TASK -> prepare -> spawn         framework.info, container.info
 *   TaskLifecycle       frameworks, tasks (TaskRecord), the agent's  task.info (through the status
 *                       id; the one writer of a task's state         update manager); removes it
 *   AgentRecovery       nothing: rebuilds the others after a restart
 *   RunTaskValidation   nothing: a pure check of RUN_TASK
 * </pre>
 *
 * <pre>
 *  master                         agent-loop (one thread owns all state)                 host
 *  ------                         --------------------------------------                 ----
 *  RUN_TASK{framework, task} ---> AgentCore -> TaskLauncher: RunTaskValidation
 *                                   | bad -> TASK_ERROR (REASON_TASK_INVALID)
 *                                   v
 *                                 TASK_STARTING (TaskLifecycle.report: checkpointed first) ---+
 *                                   | worker: user lookup, sandbox, Fetcher                   |
 *                                   v                                                         |
 *                                 Containerizer: Isolator (cgroup + limits),                  |
 *                                   setsid launcher -> cgroup -> record pid -> go ------------+-> launcher
 *                                   | -> TASK_RUNNING, HealthMonitor and UsageMonitor start   |   (session)
 *  KILL_TASK ------------------->  TaskLifecycle.kill: SIGTERM group ... grace ... SIGKILL    |
 *                                   v                                                         |
 *                                 exit (Process.onExit or /proc polling) &lt;------------------|-- exit_status
 *                                   -> TaskLifecycle: TASK_FINISHED / FAILED / KILLED --------+
 *                                                                                             v
 *  STATUS_UPDATE &lt;---------------- StatusUpdateManager: per task, in order, head in flight,
 *                                   checkpointed with the task's record, resent until acknowledged
 *  STATUS_UPDATE_ACK{uuid} ------> MasterLink -> StatusUpdateManager: next update; terminal one acked
 *                                   -> TaskLifecycle: task forgotten, sandbox to SandboxGc
 *
 *  MasterLink: MasterDetector -> channel -> Connect stream -> REGISTER / REREGISTER -> REGISTERED;
 *              PING -> PONG; no PING for ping_interval * max_ping_timeouts, stream error or ERROR
 *              -> reconnect with backoff -> REREGISTER (tasks + unacknowledged updates)
 * </pre>
 *
 * <p>Threads: one event loop thread, {@code agent-loop}, owns every piece of state of this package and
 * of the sub-packages' managers and monitors. gRPC callbacks, detector callbacks, process exits, timers
 * and workers only append events to the loop ({@link io.mezzo.common.loop.EventLoop}); a worker gets
 * copies of what it needs and hands its result back as an event. Time comes from the injected clock.
 * The public surface is {@link io.mezzo.agent.Agent} and {@link io.mezzo.agent.AgentConfig}; the
 * sub-packages are internal (public only so that they can call each other): {@code containerizer}
 * (launcher, isolators, sandboxes, {@code /proc}, usage), {@code containerizer.cgroups} (cgroups v1/v2),
 * {@code checkpoint} (the records under {@code meta/}), {@code fetcher}, {@code health}, {@code gc}
 * (sandbox removal), {@code status} (reliable status updates), {@code link} (the master stream), {@code
 * resources} (detection, flag parsing, reservations). Which may import which is checked by {@code
 * AgentArchitectureTest}. See {@code docs/agent.md}.
 */
package io.mezzo.agent;

/**
 * The Mezzo agent: one per host. It registers with the leading master, runs the command tasks the
 * master sends it, each in a sandbox, under a launcher that leads its own session, inside a cgroup, and
 * reports every change of a task's state until the framework acknowledges it. Tasks of frameworks that
 * checkpoint survive the agent's restarts.
 *
 * <pre>
 *  master                         agent-loop (one thread owns all state)                 host
 *  ------                         --------------------------------------                 ----
 *  RUN_TASK{framework, task} ---> TaskManager: validate ids, command, resources
 *                                   | bad -> TASK_ERROR (REASON_TASK_INVALID)
 *                                   v
 *                                 TASK_STARTING (checkpointed first) ---------------+
 *                                   | worker: user lookup, sandbox, Fetcher         |
 *                                   v                                               |
 *                                 Containerizer: Isolator (cgroup + limits),        |
 *                                   setsid launcher -> cgroup -> record pid -> go --+-----> launcher (session)
 *                                   | -> TASK_RUNNING, HealthChecker starts         |        runs the command
 *  KILL_TASK ------------------->   | SIGTERM group ... grace ... SIGKILL cgroup    |
 *                                   v                                               |
 *                                 exit (Process.onExit or /proc polling) &lt;--------|------- exit_status file
 *                                   -> TASK_FINISHED / FAILED / KILLED -------------+
 *                                                                                   v
 *  STATUS_UPDATE &lt;---------------- StatusUpdateManager: per task, in order, head in flight,
 *                                   resent with backoff until acknowledged
 *  STATUS_UPDATE_ACK{uuid} ------>  -> next update; terminal one acked -> task forgotten, sandbox to GC
 *
 *  MasterLink: MasterDetector -> channel -> Connect stream -> REGISTER / REREGISTER -> REGISTERED;
 *              PING -> PONG; no PING for ping_interval * max_ping_timeouts, stream error or ERROR
 *              -> reconnect with backoff -> REREGISTER (tasks + unacknowledged updates)
 * </pre>
 *
 * <p>Threads: gRPC callbacks, detector callbacks, process exits, timers and workers only append events
 * to the loop ({@link io.mezzo.common.loop.EventLoop}); time comes from the injected clock. The public
 * surface is {@link io.mezzo.agent.Agent} and {@link io.mezzo.agent.AgentConfig}; the sub-packages are
 * internal (public only so that they can call each other): {@code containerizer} (launcher, isolators,
 * sandboxes, {@code /proc}), {@code containerizer.cgroups} (cgroups v1/v2), {@code checkpoint} (the
 * records under {@code meta/}), {@code fetcher}, {@code health}, {@code gc} (sandbox removal), {@code
 * status} (reliable status updates), {@code link} (the master stream), {@code resources} (detection and
 * flag parsing). See {@code docs/agent.md}.
 */
package io.mezzo.agent;

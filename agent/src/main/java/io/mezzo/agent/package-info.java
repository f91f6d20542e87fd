/**
 * The Mezzo agent: one per host. It registers with the leading master, runs the command tasks the
 * master sends it, each in a sandbox and a process session of its own, and reports every change of a
 * task's state until the framework acknowledges it.
 *
 * <pre>
 *  master                         agent-loop (one thread owns all state)                 host
 *  ------                         --------------------------------------                 ----
 *  RUN_TASK{framework, task} ---> TaskManager: validate ids, command, resources
 *                                   | bad -> TASK_ERROR (REASON_TASK_INVALID)
 *                                   v
 *                                 TASK_STARTING --------------------------+
 *                                   | (next event)                        |
 *                                   v                                     |
 *                                 Sandbox: work_dir/agents/A/frameworks/F/tasks/T/runs/C/
 *                                   v                                     |
 *                                 PosixContainerizer: setsid sh -c ... ---+--------> process group
 *                                   | spawned -> TASK_RUNNING ------------+         (stdout, stderr
 *                                   |                                     |          in the sandbox)
 *  KILL_TASK ------------------->   | SIGTERM group ... grace ... SIGKILL |
 *                                   v                                     |
 *                                 exit (Process.onExit, enqueued) &lt;-------|-------- exit status
 *                                   -> TASK_FINISHED / FAILED / KILLED ---+
 *                                                                         v
 *  STATUS_UPDATE &lt;---------------- StatusUpdateManager: per task, in order, head in flight,
 *                                   resent with backoff until acknowledged
 *  STATUS_UPDATE_ACK{uuid} ------>  -> next update of the task; terminal one acked -> task forgotten
 *
 *  MasterLink: MasterDetector -> channel -> Connect stream -> REGISTER / REREGISTER -> REGISTERED;
 *              PING -> PONG; no PING for ping_interval * max_ping_timeouts, stream error or ERROR
 *              -> reconnect with backoff -> REREGISTER (tasks + unacknowledged updates)
 * </pre>
 *
 * <p>Threads: gRPC callbacks, detector callbacks, process exits and timers only append events to the
 * loop ({@link io.mezzo.common.loop.EventLoop}); time comes from the injected clock. The public surface
 * is {@link io.mezzo.agent.Agent} and {@link io.mezzo.agent.AgentConfig}; the sub-packages are internal
 * (public only so that they can call each other): {@code containerizer} (sandboxes and processes),
 * {@code status} (reliable status updates), {@code link} (the master stream), {@code resources}
 * (detection and flag parsing).
 */
package io.mezzo.agent;

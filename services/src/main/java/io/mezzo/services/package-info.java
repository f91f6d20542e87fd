/**
 * The service scheduler: a framework written on {@code io.mezzo.scheduler} that keeps long-running
 * services at their instance count and healthy, scales them, and rolls new versions out (rolling,
 * canary, rollback), with its own leader election and fenced state in ZooKeeper.
 *
 * <pre>
 *   HTTP API (ServicesHttpApi) --+
 *   scheduler client callbacks --+--> loop "services": ServiceManager --> fenced store (zk-ha Registry)
 *   (ServicesScheduler)          |                          |
 *                                |                          +--> driver: launch / kill / decline / revive
 *   election (ServicesDaemon) ---+ leads: recover + subscribe; lost: stop acting
 * </pre>
 *
 * <p>Definitions: {@link io.mezzo.services.DefinitionJson} (strict JSON) and {@link
 * io.mezzo.services.DefinitionValidator} (against the agents seen). See docs/services.md.
 */
package io.mezzo.services;

/**
 * The agent's resources: what the host has ({@link io.mezzo.agent.resources.ResourceDetector}), what the
 * flags say ({@link io.mezzo.agent.resources.ResourceFlags}), and the master's dynamic reservations
 * applied to the total the agent reports ({@link io.mezzo.agent.resources.ReservationManager}).
 *
 * <p>Threads: detection and parsing are pure and run once at start on the starting thread; the
 * reservation manager lives on the agent's event loop.
 */
package io.mezzo.agent.resources;

/**
 * The single-writer event loop every daemon's state lives on ({@link
 * io.mezzo.common.loop.EventLoop}, after Kafka's {@code KafkaEventQueue}): events are appended from
 * any thread and run one at a time on the loop's thread; timers are tagged deferred events on the
 * injected clock. Broken invariants go to a {@link io.mezzo.common.loop.FaultHandler}.
 */
package io.mezzo.common.loop;

/**
 * Typed ids ({@code AgentId}, {@code FrameworkId}, {@code TaskId}, {@code OfferId}, ...) so that
 * an agent id is never passed where a task id belongs. Immutable values; any thread.
 */
package io.mezzo.common.id;

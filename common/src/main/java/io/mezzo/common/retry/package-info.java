/**
 * Retry delays: exponential backoff with jitter. Not thread-safe: each retrying component owns
 * its {@link io.mezzo.common.retry.Backoff} and uses it on its own loop.
 */
package io.mezzo.common.retry;

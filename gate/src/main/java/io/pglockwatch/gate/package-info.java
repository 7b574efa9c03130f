/**
 * Lock-safe Flyway migrations: every migration runs with a short {@code lock_timeout}, a second session watches who
 * queues behind a waiting statement and cancels it before they wait long, and a migration that could not get its
 * lock is retried whole after a backoff.
 */
package io.pglockwatch.gate;

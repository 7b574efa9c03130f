package io.pglockwatch.graph;

import java.time.Duration;
import java.time.Instant;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockObject;

/**
 * What a session waits for.
 *
 * @param object the lock tag
 * @param description the object for people: {@code public.users}, {@code transactionid 731},
 * {@code tuple public.accounts (0,1)}, {@code advisory 42}
 * @param relation {@code schema.table} when the object is (on) a relation, else null
 * @param queuePosition place in the object's wait queue, 1 = next to be granted
 */
public record LockWait(LockObject object, String description, String relation, LockMode mode, Instant waitStart,
		Duration waited, int queuePosition) {
}

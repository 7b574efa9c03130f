package io.pglockwatch.gate;

import java.util.List;
import java.util.Set;

/**
 * One attempt at one migration: what the callback set up and what the watcher saw. Written by the migration thread
 * and the watcher thread, hence the volatile fields.
 */
final class Attempt {

	/** {@code V42} or {@code R__description}. */
	final String migration;
	/** The key attempts are counted by. */
	final String key;
	final int number;
	final int maxAttempts;
	final long startedNanos;

	/** Whether the migration runs inside a transaction (autocommit off on its connection). */
	volatile boolean transactional;
	/** The migration's version as Flyway writes it in its history, null for a repeatable one. */
	volatile String version;
	volatile String description;
	volatile int pid;
	/** Set by the watcher right before it cancels the migration's statement, cleared if the cancel did not happen. */
	volatile boolean cancelledByGate;
	/** The lock the migration waited for, e.g. {@code AccessExclusiveLock on public.users}; null if it never waited. */
	volatile String waitedFor;
	/** The longest the migration was seen waiting for a lock, in ms. */
	volatile long waitedMillis;
	/** Sessions waiting behind the migration when the watcher last looked (or when it cancelled). */
	volatile int victims;
	/** The longest wait of those sessions, in ms. */
	volatile long longestVictimMillis;
	/** The most sessions seen waiting behind the migration at once during this attempt. */
	volatile int maxVictims;
	/** The sessions in the migration's way, last seen. */
	volatile List<Blocker> blockers = List.of();
	/** Why the attempt did not start (holders found before it), or null. */
	volatile String notStartedReason;
	/** INVALID indexes before a non-transactional attempt, by oid. */
	volatile Set<Long> invalidIndexesBefore = Set.of();
	/** Index names the migration's CREATE INDEX CONCURRENTLY statements create. */
	volatile Set<String> concurrentIndexNames = Set.of();
	/** The session settings to restore after a non-transactional attempt. */
	volatile String savedApplicationName;
	volatile String savedLockTimeout;
	volatile String savedStatementTimeout;

	Attempt(String migration, String key, int number, int maxAttempts) {
		this.migration = migration;
		this.key = key;
		this.number = number;
		this.maxAttempts = maxAttempts;
		this.startedNanos = System.nanoTime();
	}

	long elapsedMillis() {
		return (System.nanoTime() - startedNanos) / 1_000_000;
	}

	String applicationName() {
		return "pglockwatch-gate " + migration + " attempt " + number + "/" + maxAttempts;
	}

}

package io.pglockwatch.lock;

import java.time.Instant;

/**
 * What pg_stat_activity says of a backend that holds or waits for a contended lock. {@code query} has
 * already been shaped by {@code pglockwatch.query-text}; no raw query text leaves the collector.
 */
public record SessionActivity(int pid, Integer leaderPid, String database, String user, String applicationName,
		String clientAddress, String backendType, String state, Instant backendStart, Instant transactionStart,
		Instant queryStart, Instant stateChange, String waitEventType, String waitEvent, String query,
		String commandTag) {
}

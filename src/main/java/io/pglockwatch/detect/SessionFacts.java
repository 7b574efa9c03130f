package io.pglockwatch.detect;

import java.time.Duration;
import java.time.Instant;

/**
 * What an incident records of a session (the waiting DDL, the root blocker), frozen when seen. The
 * statement is already shaped by {@code pglockwatch.query-text}.
 *
 * @param pid 0 for a prepared transaction, named by {@code preparedGid}
 * @param transactionAge how long its transaction had been open when seen
 * @param idleFor for a session idle in transaction, how long it had been idle
 */
public record SessionFacts(int pid, Instant backendStart, String state, String applicationName, String user,
		String clientAddress, String database, Instant transactionStart, Duration transactionAge, Duration idleFor,
		String statement, String commandTag, String preparedGid) {
}

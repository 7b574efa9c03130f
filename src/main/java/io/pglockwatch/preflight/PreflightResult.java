package io.pglockwatch.preflight;

import java.util.List;

/**
 * The answer to "would this lock queue right now?", read from one snapshot of the target's lock table.
 *
 * @param safe nobody holds or waits for a conflicting lock on any of the relations (and, for a statement that
 * runs CONCURRENTLY, no older transaction is open)
 * @param mode the strongest requested mode ({@code AccessExclusiveLock}...), null when nothing existing is locked
 * @param relations the relations checked, with the mode asked for each
 * @param conflicts the sessions the lock would queue behind, granted holders first, oldest transaction first
 * @param olderTransactions for a CONCURRENTLY statement, the open transactions it would wait for, oldest first;
 * empty otherwise
 */
public record PreflightResult(boolean safe, String mode, List<RelationCheck> relations, List<Conflict> conflicts,
		List<Conflict> olderTransactions) {

	public PreflightResult {
		relations = List.copyOf(relations);
		conflicts = List.copyOf(conflicts);
		olderTransactions = List.copyOf(olderTransactions);
	}

	/**
	 * One relation that was checked.
	 * @param relation its name as {@code schema.name}
	 * @param requested the name as asked (or as written in the statement) that led to it
	 * @param mode the mode asked for on it
	 * @param oid its oid in the target's database
	 */
	public record RelationCheck(String relation, String requested, String mode, long oid) {
	}

	/**
	 * A session (or prepared transaction) in the way.
	 * @param pid the backend, null for a prepared transaction
	 * @param relation {@code schema.name} of the relation it locks; null in {@code olderTransactions}
	 * @param mode the mode it holds or waits for; null in {@code olderTransactions}
	 * @param granted true if it holds the lock, false if it waits for it; null in {@code olderTransactions}
	 * @param state pg_stat_activity.state, or {@code prepared} for a prepared transaction
	 * @param applicationName pg_stat_activity.application_name
	 * @param user the role
	 * @param clientAddress the client's address, null for a local socket or when hidden
	 * @param transactionAgeSeconds how long its transaction has been open, on the server's clock
	 * @param query its latest statement, shaped by {@code pglockwatch.query-text}
	 * @param preparedTransaction the gid of a prepared transaction, else null
	 */
	public record Conflict(Integer pid, String relation, String mode, Boolean granted, String state,
			String applicationName, String user, String clientAddress, Double transactionAgeSeconds, String query,
			String preparedTransaction) {
	}

}

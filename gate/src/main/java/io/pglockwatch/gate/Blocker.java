package io.pglockwatch.gate;

import io.pglockwatch.sql.QueryTextRedactor;

/**
 * A session in a migration's way, as the gate saw it: one that holds (or waits ahead for) a lock the migration
 * needs.
 * @param pid the backend pid
 * @param applicationName its {@code application_name}, may be empty
 * @param user its role
 * @param state {@code active}, {@code idle in transaction}...
 * @param transactionAgeMillis how long its transaction has been open, -1 when it has none
 * @param query its current or last statement, redacted (literals and comments removed)
 * @param mode the lock mode it holds on the relation, when known
 */
public record Blocker(int pid, String applicationName, String user, String state, long transactionAgeMillis,
		String query, String mode) {

	/** The longest query text kept. */
	private static final int MAX_QUERY = 200;

	static Blocker of(int pid, String applicationName, String user, String state, long transactionAgeMillis,
			String rawQuery, String mode) {
		String query = QueryTextRedactor.redact(rawQuery);
		if (query != null) {
			query = query.strip().replaceAll("\\s+", " ");
			if (query.length() > MAX_QUERY) {
				query = query.substring(0, MAX_QUERY) + "\u2026";
			}
		}
		return new Blocker(pid, applicationName == null ? "" : applicationName, user, state, transactionAgeMillis,
				query, mode);
	}

	/** {@code pid 4242 (application 'report', user alice, idle in transaction, transaction 8.1 s old): SELECT ...}. */
	public String describe() {
		return "pid " + pid + " (application '" + applicationName + "', user " + user + ", " + state
				+ (mode == null ? "" : ", holds " + mode)
				+ (transactionAgeMillis < 0 ? ", no transaction" : ", transaction " + seconds(transactionAgeMillis) + " s old")
				+ "): " + (query == null ? "-" : query);
	}

	static String seconds(long millis) {
		return String.format(java.util.Locale.ROOT, "%.1f", millis / 1000.0);
	}

}

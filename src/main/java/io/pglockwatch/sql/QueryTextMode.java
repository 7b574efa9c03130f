package io.pglockwatch.sql;

/**
 * How much of a session's query text pg-lockwatch keeps when it reports a lock queue. The text
 * of a blocked or blocking statement can carry customer data and credentials, so a deployment
 * chooses how much of it may leave the collector.
 */
public enum QueryTextMode {

	/**
	 * The query text exactly as PostgreSQL reports it in {@code pg_stat_activity}, literals and
	 * comments included.
	 */
	FULL,

	/**
	 * The query text with every literal (strings, numbers, dollar-quoted bodies) replaced by
	 * {@code ?} and the content of every comment removed; see {@link QueryTextRedactor#redact}.
	 */
	REDACTED,

	/**
	 * No query text at all; only the statement's command tag, such as {@code "ALTER TABLE"}, is
	 * reported (see {@link QueryTextRedactor#commandTag}).
	 */
	NONE;

	/**
	 * The query text to keep under this mode.
	 * @param query the text from PostgreSQL, possibly truncated; may be {@code null}
	 * @return the text unchanged ({@link #FULL}), redacted ({@link #REDACTED}) or {@code null}
	 * ({@link #NONE}, or when {@code query} is {@code null})
	 */
	public String apply(String query) {
		if (query == null) {
			return null;
		}
		return switch (this) {
			case FULL -> query;
			case REDACTED -> QueryTextRedactor.redact(query);
			case NONE -> null;
		};
	}

}

package io.pglockwatch.lint;

import java.util.Locale;

/** The lint's rules; docs/lint.md has a section per rule, anchored by its id. */
public enum Rule {

	INDEX_WITHOUT_CONCURRENTLY(Severity.WARNING,
			"CREATE INDEX, DROP INDEX or REINDEX on an existing table without CONCURRENTLY",
			"use CREATE INDEX CONCURRENTLY / DROP INDEX CONCURRENTLY / REINDEX ... CONCURRENTLY, alone in its own "
					+ "migration file (Flyway then runs it outside a transaction)"),

	CONCURRENTLY_IN_TRANSACTION(Severity.ERROR, "A CONCURRENTLY statement inside a transaction (it fails)",
			"put the statement alone in its own migration file; Flyway runs CREATE/DROP INDEX CONCURRENTLY outside a "
					+ "transaction by itself, for REINDEX ... CONCURRENTLY and DETACH PARTITION ... CONCURRENTLY add "
					+ "a script config file (V<n>__name.sql.conf) with executeInTransaction=false; no BEGIN/COMMIT "
					+ "around it"),

	TABLE_REWRITE(Severity.ERROR, "A column type change or other statement that rewrites the whole table",
			"add a new column, backfill it in batches, switch the application over, then drop the old column; a "
					+ "binary-coercible change (varchar(n) to text or to a longer varchar) does not rewrite and "
					+ "may be accepted with a pglockwatch:allow comment"),

	ADD_COLUMN_VOLATILE_DEFAULT(Severity.ERROR,
			"ADD COLUMN with a volatile default (or serial), which rewrites the table",
			"add the column without a default (or with a constant one), set the default with ALTER COLUMN SET "
					+ "DEFAULT, and backfill existing rows in batches"),

	ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT(Severity.ERROR,
			"ADD COLUMN ... NOT NULL without a default (fails on a table with rows)",
			"add the column with a constant DEFAULT (PostgreSQL 11+ adds it without a rewrite), or add it nullable, "
					+ "backfill, add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL"),

	SET_NOT_NULL(Severity.WARNING, "SET NOT NULL without a validated CHECK (col IS NOT NULL) first",
			"first ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT c (in a later "
					+ "migration), then SET NOT NULL (PostgreSQL 12+ skips the scan) and DROP CONSTRAINT c"),

	CONSTRAINT_WITHOUT_NOT_VALID(Severity.WARNING,
			"A foreign key or check constraint added to an existing table without NOT VALID",
			"ADD CONSTRAINT ... NOT VALID (brief lock, no scan), then ALTER TABLE ... VALIDATE CONSTRAINT in a later "
					+ "migration: it scans under ShareUpdateExclusiveLock, which blocks neither reads nor writes"),

	UNIQUE_WITHOUT_INDEX(Severity.WARNING,
			"UNIQUE, PRIMARY KEY or EXCLUDE constraint that builds its index under the table's lock",
			"CREATE UNIQUE INDEX CONCURRENTLY first (its own migration), then ADD CONSTRAINT ... UNIQUE USING INDEX "
					+ "(or PRIMARY KEY USING INDEX), which only takes a brief lock"),

	SEVERAL_STRONG_LOCKS(Severity.WARNING, "Strong locks on several tables in one transaction",
			"one table per migration (or per transaction): while it queues for the next table's lock, the "
					+ "transaction keeps blocking everyone on the tables it already locked, and two such migrations "
					+ "can deadlock; if they must go together, take the locks up front in a fixed order with a short "
					+ "lock_timeout"),

	VACUUM_FULL_OR_CLUSTER(Severity.ERROR, "VACUUM FULL or CLUSTER, which rewrite the table under its strongest lock",
			"plain VACUUM (no lock against reads or writes), or pg_repack / pg_squeeze to compact or re-order a table "
					+ "online"),

	STRONG_LOCK_WITHOUT_LOCK_TIMEOUT(Severity.WARNING,
			"A lock that blocks writes (or reads) taken without a lock_timeout",
			"SET lock_timeout = '2s' (or SET LOCAL in the transaction) before the statement and retry on timeout, or "
					+ "run the migrations through the pg-lockwatch gate, which sets it and retries");

	private final Severity severity;

	private final String title;

	private final String safeAlternative;

	Rule(Severity severity, String title, String safeAlternative) {
		this.severity = severity;
		this.title = title;
		this.safeAlternative = safeAlternative;
	}

	/** The rule's id, e.g. {@code index-without-concurrently}: the name the allow comment and the docs use. */
	public String id() {
		return name().toLowerCase(Locale.ROOT).replace('_', '-');
	}

	public Severity severity() {
		return this.severity;
	}

	/** One line: what the rule catches. */
	public String title() {
		return this.title;
	}

	/** The safe way, in general; a finding may say it more precisely. */
	public String safeAlternative() {
		return this.safeAlternative;
	}

	/** The rule's section of docs/lint.md. */
	public String docsPath() {
		return "docs/lint.md#" + id();
	}

	/** The rule with id {@code id}, or null. */
	public static Rule byId(String id) {
		for (Rule rule : values()) {
			if (rule.id().equalsIgnoreCase(id)) {
				return rule;
			}
		}
		return null;
	}

}

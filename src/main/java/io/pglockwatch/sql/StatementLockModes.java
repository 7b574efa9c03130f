package io.pglockwatch.sql;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.sql.SqlLexer.Token;

/**
 * Which relation locks a DDL statement takes, read from its text alone: the answer to "what would this migration
 * queue for?". The answers are data: {@code ddl-lock-modes.tsv}, next to this class, lists each statement form with
 * its locks as PostgreSQL's documentation (explicit-locking.html and each command's page) and the lock levels in
 * tablecmds.c give them, and {@link StatementForms} matches a statement against it. Every entry is checked against
 * real PostgreSQL 14 and 18 servers by {@code StatementLockModesIntegrationTests}; docs/preflight.md has the table.
 * <p>
 * A statement it does not know is refused with {@link UnclassifiableStatementException}, never guessed: a wrong
 * "safe" is worse than no answer. Only the relations a statement names are reported (plus the indexes of a table
 * and the table of an index where PostgreSQL locks those too, see {@link Scope}); locks that depend on the catalog
 * beyond that (the default partition when attaching, tables referenced by a foreign key that ALTER COLUMN TYPE
 * re-checks, ...) are not.
 */
public final class StatementLockModes {

	/** The longest statement echoed in an error message. */
	private static final int MAX_ECHO = 160;

	private static final StatementForms TABLE = StatementForms.load("ddl-lock-modes.tsv");

	private StatementLockModes() {
	}

	/**
	 * Which relations a {@link RelationLock} is about: the one it names, or relations found through it in the
	 * catalog, because PostgreSQL locks those too and the text does not name them.
	 */
	public enum Scope {

		/** The named relation itself. */
		RELATION,

		/** Every index of the named table (REINDEX TABLE locks each of them more strongly than the table). */
		INDEXES,

		/** The table the named index belongs to (REINDEX INDEX and DROP INDEX lock it too). */
		TABLE,

		/** The tables that the named table's foreign keys reference (DROP TABLE drops their triggers). */
		FOREIGN_KEY_TARGETS,

		/** The table referenced by the named table's foreign key {@link RelationLock#detail()} (a constraint). */
		FOREIGN_KEY_TARGET_OF_CONSTRAINT,

		/** The tables referenced by foreign keys on the named table's column {@link RelationLock#detail()}. */
		FOREIGN_KEY_TARGETS_OF_COLUMN,

		/** The tables whose foreign keys reference the named table (CASCADE reaches them). */
		FOREIGN_KEY_SOURCES,

		/** The tables whose foreign keys reference the named table's column {@link RelationLock#detail()}. */
		FOREIGN_KEY_SOURCES_OF_COLUMN

	}

	/**
	 * One relation lock a statement takes.
	 * @param relation the relation as written in the statement, possibly schema-qualified and quoted
	 * @param mode the strongest mode the statement takes on it
	 * @param scope whether the lock is on that relation or on relations found through it
	 * @param detail the constraint or column name (as PostgreSQL stores it) that narrows a foreign key scope, else
	 * null
	 */
	public record RelationLock(String relation, LockMode mode, Scope scope, String detail) {

		public RelationLock(String relation, LockMode mode) {
			this(relation, mode, Scope.RELATION, null);
		}

		public RelationLock(String relation, LockMode mode, Scope scope) {
			this(relation, mode, scope, null);
		}

		/** The parsed name of {@link #relation()}. */
		public QualifiedName name() {
			return QualifiedName.parse(this.relation);
		}

	}

	/**
	 * What a statement locks.
	 * @param mode the strongest of the modes, null only when the statement locks no existing relation (CREATE TABLE
	 * without references)
	 * @param relations every relation lock, in the order the statement names them
	 * @param concurrently the statement runs in several transactions and waits for the transactions that are older
	 * than it (CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, DETACH PARTITION
	 * CONCURRENTLY); REFRESH MATERIALIZED VIEW CONCURRENTLY is an ordinary one-transaction statement and is not
	 * @param statementKind the command, e.g. {@code ALTER TABLE ADD COLUMN}
	 */
	public record Classification(LockMode mode, List<RelationLock> relations, boolean concurrently,
			String statementKind) {

		public Classification {
			relations = List.copyOf(relations);
		}

	}

	/** The statement is not one whose locks pg-lockwatch knows. */
	public static final class UnclassifiableStatementException extends IllegalArgumentException {

		UnclassifiableStatementException(String statement, String reason) {
			super("cannot classify '" + echo(statement) + "': " + reason + "; pass relation= and mode= instead");
		}

		private static String echo(String statement) {
			String flat = (statement == null) ? "" : statement.strip().replaceAll("\\s+", " ");
			return (flat.length() <= MAX_ECHO) ? flat : flat.substring(0, MAX_ECHO) + "\u2026";
		}

	}

	/**
	 * Classifies one statement. A trailing semicolon, comments and any letter case are fine.
	 * @throws UnclassifiableStatementException when the statement is not a DDL statement this class knows, is
	 * several statements, or cannot be read
	 */
	public static Classification classify(String statement) {
		List<Token> tokens;
		try {
			tokens = SqlLexer.tokens((statement == null) ? "" : statement);
		}
		catch (SqlLexer.MalformedSqlException ex) {
			throw new UnclassifiableStatementException(statement, ex.getMessage());
		}
		int end = tokens.size();
		while (end > 0 && tokens.get(end - 1).is(';')) {
			end--;
		}
		for (int k = 0; k < end; k++) {
			if (tokens.get(k).is(';')) {
				throw new UnclassifiableStatementException(statement,
						"it holds more than one statement; ask about one statement at a time");
			}
		}
		if (end == 0) {
			throw new UnclassifiableStatementException(statement, "it is empty");
		}
		StatementForms.Answer answer;
		try {
			answer = TABLE.classify(statement, tokens.subList(0, end));
		}
		catch (StatementForms.Refused ex) {
			throw new UnclassifiableStatementException(statement, ex.getMessage());
		}
		Builder result = new Builder();
		for (RelationLock lock : answer.locks()) {
			result.lock(lock);
		}
		return result.build(answer.kind(), answer.concurrently());
	}

	static LockMode max(LockMode a, LockMode b) {
		if (a == null) {
			return b;
		}
		return (b.ordinal() > a.ordinal()) ? b : a;
	}

	/** Collects the locks of one statement, the strongest mode per relation. */
	private static final class Builder {

		private final Map<String, RelationLock> locks = new LinkedHashMap<>();

		void lock(RelationLock lock) {
			// "users" and "Users" are one relation; "users" and "public.users" may not be, so they stay apart
			String key = lock.scope() + " " + lock.detail() + " " + QualifiedName.parse(lock.relation());
			RelationLock known = this.locks.get(key);
			this.locks.put(key, (known == null) ? lock
					: new RelationLock(known.relation(), max(known.mode(), lock.mode()), lock.scope(), lock.detail()));
		}

		Classification build(String kind, boolean concurrently) {
			LockMode mode = null;
			for (RelationLock lock : this.locks.values()) {
				mode = max(mode, lock.mode());
			}
			return new Classification(mode, List.copyOf(this.locks.values()), concurrently, kind);
		}

	}

}

package io.pglockwatch.sql;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.sql.SqlLexer.Kind;
import io.pglockwatch.sql.SqlLexer.Token;

/**
 * Which relation locks a DDL statement takes, read from its text alone: the answer to "what would this migration
 * queue for?". Every entry follows PostgreSQL's documentation (explicit-locking.html and each command's page) and
 * the lock levels in tablecmds.c, and is checked against real PostgreSQL 14 and 18 servers by
 * {@code StatementLockModesIntegrationTests}; docs/preflight.md has the table.
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

	/** Storage parameters of tables (reloptions.c) that ALTER TABLE SET / RESET changes under ShareUpdateExclusive. */
	private static final Set<String> SHARE_UPDATE_EXCLUSIVE_TABLE_OPTIONS = Set.of("fillfactor", "parallel_workers",
			"toast_tuple_target", "vacuum_index_cleanup", "vacuum_truncate", "log_autovacuum_min_duration");

	/** Storage parameters of tables that need AccessExclusive. */
	private static final Set<String> ACCESS_EXCLUSIVE_TABLE_OPTIONS = Set.of("user_catalog_table");

	/** Storage parameters of B-tree indexes, all ShareUpdateExclusive. */
	private static final Set<String> BTREE_INDEX_OPTIONS = Set.of("fillfactor", "deduplicate_items");

	private static final Set<String> LOCK_MODE_WORDS = Set.of("ACCESS", "ROW", "SHARE", "UPDATE", "EXCLUSIVE");

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
		Builder result = new Builder();
		try {
			dispatch(new Cursor(statement, tokens.subList(0, end)), result);
		}
		catch (Refused ex) {
			throw new UnclassifiableStatementException(statement, ex.getMessage());
		}
		return result.build();
	}

	private static void dispatch(Cursor c, Builder b) {
		Token first = c.next();
		String verb = first.upper();
		switch (first.kind() == Kind.WORD ? verb : "") {
			case "ALTER" -> alter(c, b);
			case "CREATE" -> create(c, b);
			case "DROP" -> drop(c, b);
			case "REINDEX" -> reindex(c, b);
			case "VACUUM" -> vacuum(c, b);
			case "ANALYZE", "ANALYSE" -> analyze(c, b);
			case "CLUSTER" -> cluster(c, b);
			case "TRUNCATE" -> truncate(c, b);
			case "REFRESH" -> refresh(c, b);
			case "LOCK" -> lock(c, b);
			case "COMMENT" -> comment(c, b);
			default -> throw new Refused("not a DDL statement pg-lockwatch knows");
		}
	}

	// ALTER TABLE / ALTER INDEX

	private static void alter(Cursor c, Builder b) {
		if (c.accept("INDEX")) {
			alterIndex(c, b);
			return;
		}
		if (!c.accept("TABLE")) {
			throw new Refused("ALTER " + c.describeNext() + " is not a statement pg-lockwatch knows (it knows ALTER TABLE "
					+ "and ALTER INDEX)");
		}
		if (c.peekIs("ALL")) {
			throw new Refused("ALTER TABLE ALL IN TABLESPACE moves every table of a tablespace");
		}
		c.accept("IF", "EXISTS");
		String table = c.relation();
		if (c.accept("RENAME")) {
			// RenameRelation, renameatt and RenameConstraint all take AccessExclusive on a table
			String what = "";
			if (c.accept("CONSTRAINT")) {
				what = " CONSTRAINT";
				c.name("constraint");
			}
			else if (!c.peekIs("TO")) {
				what = " COLUMN";
				c.accept("COLUMN");
				c.name("column");
			}
			c.expect("TO");
			c.name("new");
			c.expectEnd();
			b.kind("ALTER TABLE RENAME" + what);
			b.lock(table, LockMode.ACCESS_EXCLUSIVE);
			return;
		}
		if (c.accept("SET", "SCHEMA")) {
			c.name("schema");
			c.expectEnd();
			b.kind("ALTER TABLE SET SCHEMA");
			b.lock(table, LockMode.ACCESS_EXCLUSIVE);
			return;
		}
		if (c.accept("ATTACH", "PARTITION")) {
			b.kind("ALTER TABLE ATTACH PARTITION");
			b.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE);
			// the table being attached is scanned for rows outside the new bound, under AccessExclusive
			b.lock(c.relation(), LockMode.ACCESS_EXCLUSIVE);
			return;
		}
		if (c.accept("DETACH", "PARTITION")) {
			String partition = c.relation();
			if (c.accept("FINALIZE")) {
				throw new Refused("DETACH PARTITION ... FINALIZE completes an interrupted concurrent detach");
			}
			boolean concurrently = c.accept("CONCURRENTLY");
			c.expectEnd();
			b.kind("ALTER TABLE DETACH PARTITION" + (concurrently ? " CONCURRENTLY" : ""));
			LockMode mode = concurrently ? LockMode.SHARE_UPDATE_EXCLUSIVE : LockMode.ACCESS_EXCLUSIVE;
			b.lock(table, mode);
			b.lock(partition, mode);
			b.concurrently = concurrently;
			return;
		}
		if (c.atEnd()) {
			throw new Refused("ALTER TABLE names no action");
		}
		List<String> actions = new ArrayList<>();
		for (Cursor action : c.splitRest(',')) {
			actions.add(alterTableAction(action, table, b));
		}
		b.kind("ALTER TABLE " + String.join(", ", new LinkedHashSet<>(actions)));
	}

	/** One action of ALTER TABLE; the lock levels are those of AlterTableGetLockLevel (tablecmds.c). */
	private static String alterTableAction(Cursor c, String table, Builder b) {
		if (c.atEnd()) {
			throw new Refused("ALTER TABLE has an empty action");
		}
		Token word = c.next();
		switch (word.kind() == Kind.WORD ? word.upper() : "") {
			case "ADD" -> {
				return addAction(c, table, b);
			}
			case "DROP" -> {
				if (c.accept("CONSTRAINT")) {
					c.accept("IF", "EXISTS");
					String constraint = c.name("constraint");
					b.lock(table, LockMode.ACCESS_EXCLUSIVE);
					// dropping a foreign key drops its triggers on the referenced table, under AccessExclusive
					b.lock(table, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_TARGET_OF_CONSTRAINT, constraint);
					return "DROP CONSTRAINT";
				}
				c.accept("COLUMN");
				c.accept("IF", "EXISTS");
				String column = c.name("column");
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				// a foreign key on the column goes with it, and so do the triggers on the table it references
				b.lock(table, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_TARGETS_OF_COLUMN, column);
				if (c.accept("CASCADE")) {
					b.lock(table, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_SOURCES_OF_COLUMN, column);
				}
				return "DROP COLUMN";
			}
			case "ALTER" -> {
				if (c.accept("CONSTRAINT")) {
					b.lock(table, LockMode.ACCESS_EXCLUSIVE);
					return "ALTER CONSTRAINT";
				}
				c.accept("COLUMN");
				return alterColumn(c, table, c.name("column"), b);
			}
			case "VALIDATE" -> {
				c.expect("CONSTRAINT");
				String constraint = c.name("constraint");
				b.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE);
				// validating a foreign key reads the referenced table with SELECT ... FOR KEY SHARE
				b.lock(table, LockMode.ROW_SHARE, Scope.FOREIGN_KEY_TARGET_OF_CONSTRAINT, constraint);
				return "VALIDATE CONSTRAINT";
			}
			case "SET" -> {
				if (c.peekIs('(')) {
					b.lock(table, storageParameters(c, true));
					return "SET (storage parameters)";
				}
				if (c.accept("WITHOUT", "CLUSTER")) {
					b.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE);
					return "SET WITHOUT CLUSTER";
				}
				for (String[] words : new String[][] { { "TABLESPACE" }, { "LOGGED" }, { "UNLOGGED" },
						{ "ACCESS", "METHOD" } }) {
					if (c.accept(words)) {
						b.lock(table, LockMode.ACCESS_EXCLUSIVE);
						return "SET " + String.join(" ", words);
					}
				}
				throw new Refused("ALTER TABLE action 'SET " + c.describeNext() + "' is not one pg-lockwatch knows");
			}
			case "RESET" -> {
				b.lock(table, storageParameters(c, true));
				return "RESET (storage parameters)";
			}
			case "CLUSTER" -> {
				c.expect("ON");
				b.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE);
				return "CLUSTER ON";
			}
			case "ENABLE", "DISABLE" -> {
				String verb = word.upper();
				if (verb.equals("ENABLE") && (c.accept("REPLICA") || c.accept("ALWAYS"))) {
					verb += " " + c.previous().upper();
				}
				if (c.accept("TRIGGER")) {
					// triggers only affect writes: ShareRowExclusive, like CREATE TRIGGER
					b.lock(table, LockMode.SHARE_ROW_EXCLUSIVE);
					return verb + " TRIGGER";
				}
				if (c.accept("RULE")) {
					b.lock(table, LockMode.ACCESS_EXCLUSIVE);
					return verb + " RULE";
				}
				if (c.accept("ROW", "LEVEL", "SECURITY")) {
					b.lock(table, LockMode.ACCESS_EXCLUSIVE);
					return verb + " ROW LEVEL SECURITY";
				}
				throw new Refused("ALTER TABLE action '" + verb + " " + c.describeNext() + "' is not one pg-lockwatch knows");
			}
			case "FORCE", "NO" -> {
				if (word.is("NO") && c.accept("INHERIT")) {
					b.lock(table, LockMode.ACCESS_EXCLUSIVE);
					b.lock(c.relation(), LockMode.ACCESS_SHARE);
					return "NO INHERIT";
				}
				if (word.is("NO")) {
					c.expect("FORCE");
				}
				c.expect("ROW", "LEVEL", "SECURITY");
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				return word.upper() + (word.is("NO") ? " FORCE" : "") + " ROW LEVEL SECURITY";
			}
			case "INHERIT" -> {
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				b.lock(c.relation(), LockMode.SHARE_UPDATE_EXCLUSIVE);
				return "INHERIT";
			}
			case "OWNER" -> {
				c.expect("TO");
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				return "OWNER TO";
			}
			case "REPLICA" -> {
				c.expect("IDENTITY");
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				return "REPLICA IDENTITY";
			}
			case "OF" -> {
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				return "OF";
			}
			case "NOT" -> {
				c.expect("OF");
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				return "NOT OF";
			}
			case "RENAME", "ATTACH", "DETACH" -> throw new Refused(
					word.upper() + " cannot be combined with other ALTER TABLE actions");
			default -> throw new Refused("ALTER TABLE action '" + word.text() + "' is not one pg-lockwatch knows");
		}
	}

	private static String addAction(Cursor c, String table, Builder b) {
		boolean named = c.accept("CONSTRAINT");
		if (named) {
			c.name("constraint");
		}
		boolean notValid = c.containsAhead("NOT", "VALID");
		String suffix = notValid ? " NOT VALID" : "";
		if (c.accept("FOREIGN", "KEY")) {
			// triggers go on both tables, so both get at least CREATE TRIGGER's ShareRowExclusive
			b.lock(table, LockMode.SHARE_ROW_EXCLUSIVE);
			b.lock(c.referencedTable(), LockMode.SHARE_ROW_EXCLUSIVE);
			return "ADD CONSTRAINT FOREIGN KEY" + suffix;
		}
		for (String[] words : new String[][] { { "CHECK" }, { "UNIQUE" }, { "PRIMARY", "KEY" }, { "EXCLUDE" },
				{ "NOT", "NULL" } }) {
			if (c.accept(words)) {
				// like CREATE INDEX, but PostgreSQL has not lowered these below AccessExclusive
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				return "ADD CONSTRAINT " + String.join(" ", words) + suffix;
			}
		}
		if (named) {
			throw new Refused("ADD CONSTRAINT '" + c.describeNext() + "' is not a constraint type pg-lockwatch knows");
		}
		c.accept("COLUMN");
		c.accept("IF", "NOT", "EXISTS");
		c.name("column");
		b.lock(table, LockMode.ACCESS_EXCLUSIVE);
		if (c.skipTo("REFERENCES")) {
			b.lock(c.relation(), LockMode.SHARE_ROW_EXCLUSIVE);
			return "ADD COLUMN REFERENCES";
		}
		return "ADD COLUMN";
	}

	private static String alterColumn(Cursor c, String table, String column, Builder b) {
		if (c.accept("TYPE") || c.accept("SET", "DATA", "TYPE")) {
			b.lock(table, LockMode.ACCESS_EXCLUSIVE);
			// foreign keys on the column, either way, are dropped and re-created with the new type
			b.lock(table, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_TARGETS_OF_COLUMN, column);
			b.lock(table, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_SOURCES_OF_COLUMN, column);
			return "ALTER COLUMN TYPE";
		}
		if (c.accept("SET", "STATISTICS")) {
			b.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE);
			return "ALTER COLUMN SET STATISTICS";
		}
		if (c.peekIs("SET", "(") || c.peekIs("RESET", "(")) {
			// attribute options (n_distinct...), read by the planner through MVCC catalog scans
			String verb = c.next().upper();
			c.skipParens();
			b.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE);
			return "ALTER COLUMN " + verb + " (attribute options)";
		}
		for (String[] words : new String[][] { { "SET", "DEFAULT" }, { "DROP", "DEFAULT" }, { "SET", "NOT", "NULL" },
				{ "DROP", "NOT", "NULL" }, { "SET", "STORAGE" }, { "SET", "COMPRESSION" }, { "DROP", "EXPRESSION" },
				{ "SET", "EXPRESSION" }, { "ADD", "GENERATED" }, { "DROP", "IDENTITY" }, { "SET", "GENERATED" },
				{ "RESTART" }, { "SET", "INCREMENT" } }) {
			if (c.accept(words)) {
				b.lock(table, LockMode.ACCESS_EXCLUSIVE);
				return "ALTER COLUMN " + String.join(" ", words);
			}
		}
		throw new Refused("ALTER COLUMN action '" + c.describeNext() + "' is not one pg-lockwatch knows");
	}

	/** {@code ( name [= value], ... )}: the strongest mode among the parameters (AlterTableGetRelOptionsLockLevel). */
	private static LockMode storageParameters(Cursor c, boolean table) {
		Cursor list = c.parens();
		LockMode mode = null;
		for (Cursor parameter : list.splitRest(',')) {
			String name = parameter.optionName();
			String bare = name.startsWith("toast.") ? name.substring("toast.".length()) : name;
			LockMode level;
			if (table && (SHARE_UPDATE_EXCLUSIVE_TABLE_OPTIONS.contains(bare) || bare.startsWith("autovacuum_"))) {
				level = LockMode.SHARE_UPDATE_EXCLUSIVE;
			}
			else if (table && ACCESS_EXCLUSIVE_TABLE_OPTIONS.contains(name)) {
				level = LockMode.ACCESS_EXCLUSIVE;
			}
			else if (!table && BTREE_INDEX_OPTIONS.contains(name)) {
				level = LockMode.SHARE_UPDATE_EXCLUSIVE;
			}
			else {
				throw new Refused("storage parameter '" + name + "' is not one pg-lockwatch knows");
			}
			mode = max(mode, level);
		}
		if (mode == null) {
			throw new Refused("empty storage parameter list");
		}
		return mode;
	}

	private static void alterIndex(Cursor c, Builder b) {
		if (c.peekIs("ALL")) {
			throw new Refused("ALTER INDEX ALL IN TABLESPACE moves every index of a tablespace");
		}
		c.accept("IF", "EXISTS");
		String index = c.relation();
		if (c.accept("RENAME", "TO")) {
			// lowered from AccessExclusive in PostgreSQL 12; the level follows the relation's real kind, so
			// ALTER INDEX RENAME on a table still takes AccessExclusive
			b.kind("ALTER INDEX RENAME");
			b.lock(index, LockMode.SHARE_UPDATE_EXCLUSIVE);
		}
		else if (c.accept("SET", "TABLESPACE")) {
			b.kind("ALTER INDEX SET TABLESPACE");
			b.lock(index, LockMode.ACCESS_EXCLUSIVE);
		}
		else if (c.peekIs("SET", "(") || c.peekIs("RESET", "(")) {
			String verb = c.next().upper();
			b.kind("ALTER INDEX " + verb + " (storage parameters)");
			b.lock(index, storageParameters(c, false));
		}
		else if (c.accept("ALTER")) {
			c.accept("COLUMN");
			c.next();
			c.expect("SET", "STATISTICS");
			b.kind("ALTER INDEX ALTER COLUMN SET STATISTICS");
			b.lock(index, LockMode.SHARE_UPDATE_EXCLUSIVE);
		}
		else {
			throw new Refused("ALTER INDEX action '" + c.describeNext() + "' is not one pg-lockwatch knows");
		}
	}

	// CREATE

	private static void create(Cursor c, Builder b) {
		c.accept("OR", "REPLACE");
		c.accept("UNIQUE");
		if (c.accept("INDEX")) {
			boolean concurrently = c.accept("CONCURRENTLY");
			if (!c.skipTo("ON")) {
				throw new Refused("CREATE INDEX names no table (ON ...)");
			}
			String table = c.relation();
			b.kind("CREATE INDEX" + (concurrently ? " CONCURRENTLY" : ""));
			// ShareLock blocks writes but not reads; CONCURRENTLY only keeps other schema changes out
			b.lock(table, concurrently ? LockMode.SHARE_UPDATE_EXCLUSIVE : LockMode.SHARE);
			b.concurrently = concurrently;
			return;
		}
		boolean constraintTrigger = c.accept("CONSTRAINT");
		if (c.accept("TRIGGER")) {
			if (!c.skipTo("ON")) {
				throw new Refused("CREATE TRIGGER names no table (ON ...)");
			}
			b.kind(constraintTrigger ? "CREATE CONSTRAINT TRIGGER" : "CREATE TRIGGER");
			b.lock(c.relation(), LockMode.SHARE_ROW_EXCLUSIVE);
			if (constraintTrigger && c.accept("FROM")) {
				b.lock(c.relation(), LockMode.ACCESS_SHARE);
			}
			return;
		}
		if (constraintTrigger) {
			throw new Refused("CREATE CONSTRAINT " + c.describeNext() + " is not a statement pg-lockwatch knows");
		}
		c.accept("GLOBAL");
		c.accept("LOCAL");
		if (c.accept("TEMP") || c.accept("TEMPORARY")) {
			throw new Refused("a temporary table is private to its session and queues for nothing");
		}
		c.accept("UNLOGGED");
		if (!c.accept("TABLE")) {
			throw new Refused("CREATE " + c.describeNext() + " is not a statement pg-lockwatch knows");
		}
		createTable(c, b);
	}

	/** The existing relations CREATE TABLE locks: its parent, its inheritance parents, LIKE sources, referenced tables. */
	private static void createTable(Cursor c, Builder b) {
		c.accept("IF", "NOT", "EXISTS");
		c.relation();
		b.kind("CREATE TABLE");
		if (c.accept("OF")) {
			throw new Refused("CREATE TABLE ... OF type is not a statement pg-lockwatch knows");
		}
		if (c.accept("PARTITION", "OF")) {
			b.kind("CREATE TABLE PARTITION OF");
			b.lock(c.relation(), LockMode.ACCESS_EXCLUSIVE);
		}
		if (c.containsAhead("AS")) {
			throw new Refused("CREATE TABLE ... AS runs a query whose locks pg-lockwatch does not read");
		}
		int depth = 0;
		Token previous = null;
		while (!c.atEnd()) {
			Token token = c.next();
			if (token.is("REFERENCES")) {
				// like ADD FOREIGN KEY: the referenced table gets the RI triggers
				b.lock(c.relation(), LockMode.SHARE_ROW_EXCLUSIVE);
			}
			else if (token.is("LIKE") && depth == 1 && previous != null && (previous.is('(') || previous.is(','))) {
				// a table element, not the LIKE operator of a CHECK expression
				b.lock(c.relation(), LockMode.ACCESS_SHARE);
			}
			else if (token.is("INHERITS") && depth == 0) {
				for (Cursor parent : c.parens().splitRest(',')) {
					b.lock(parent.relation(), LockMode.SHARE_UPDATE_EXCLUSIVE);
				}
			}
			depth += token.is('(') ? 1 : token.is(')') ? -1 : 0;
			previous = token;
		}
	}

	// DROP

	private static void drop(Cursor c, Builder b) {
		String kind = c.accept("TABLE") ? "DROP TABLE" : c.accept("VIEW") ? "DROP VIEW"
				: c.accept("MATERIALIZED", "VIEW") ? "DROP MATERIALIZED VIEW" : null;
		if (kind != null) {
			c.accept("IF", "EXISTS");
			b.kind(kind);
			List<String> relations = c.relationList();
			boolean cascade = c.accept("CASCADE");
			c.accept("RESTRICT");
			c.expectEnd();
			for (String relation : relations) {
				b.lock(relation, LockMode.ACCESS_EXCLUSIVE);
				if (kind.equals("DROP TABLE")) {
					// its foreign keys' triggers live on the referenced tables; CASCADE drops the keys that
					// reference it from other tables
					b.lock(relation, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_TARGETS);
					if (cascade) {
						b.lock(relation, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_SOURCES);
					}
				}
			}
			return;
		}
		if (c.accept("INDEX")) {
			boolean concurrently = c.accept("CONCURRENTLY");
			c.accept("IF", "EXISTS");
			List<String> indexes = c.relationList();
			c.acceptAny("CASCADE", "RESTRICT");
			c.expectEnd();
			if (concurrently && indexes.size() > 1) {
				throw new Refused("DROP INDEX CONCURRENTLY drops one index at a time");
			}
			b.kind("DROP INDEX" + (concurrently ? " CONCURRENTLY" : ""));
			// the table is locked before the index: the table's cached index list must not be used meanwhile
			LockMode mode = concurrently ? LockMode.SHARE_UPDATE_EXCLUSIVE : LockMode.ACCESS_EXCLUSIVE;
			for (String index : indexes) {
				b.lock(index, mode);
				b.lock(index, mode, Scope.TABLE);
			}
			b.concurrently = concurrently;
			return;
		}
		if (c.accept("TRIGGER")) {
			c.accept("IF", "EXISTS");
			c.name("trigger");
			c.expect("ON");
			b.kind("DROP TRIGGER");
			b.lock(c.relation(), LockMode.ACCESS_EXCLUSIVE);
			c.acceptAny("CASCADE", "RESTRICT");
			c.expectEnd();
			return;
		}
		throw new Refused("DROP " + c.describeNext() + " is not a statement pg-lockwatch knows");
	}

	// maintenance commands

	private static void reindex(Cursor c, Builder b) {
		boolean concurrently = false;
		if (c.peekIs('(')) {
			for (Cursor option : c.parens().splitRest(',')) {
				if (option.optionName().equals("concurrently")) {
					concurrently = option.booleanValue();
				}
			}
		}
		boolean index = c.accept("INDEX");
		if (!index && !c.accept("TABLE")) {
			throw new Refused("REINDEX " + c.describeNext() + " rebuilds many relations, outside a transaction");
		}
		concurrently |= c.accept("CONCURRENTLY");
		String relation = c.relation();
		c.expectEnd();
		b.kind("REINDEX " + (index ? "INDEX" : "TABLE") + (concurrently ? " CONCURRENTLY" : ""));
		b.concurrently = concurrently;
		// the named relation first, then what it reaches
		if (concurrently) {
			// new indexes are built beside the old ones and swapped; nothing stronger than ShareUpdateExclusive
			b.lock(relation, LockMode.SHARE_UPDATE_EXCLUSIVE);
			b.lock(relation, LockMode.SHARE_UPDATE_EXCLUSIVE, index ? Scope.TABLE : Scope.INDEXES);
		}
		else if (index) {
			// reads are locked out of the index being rebuilt, writes out of its table
			b.lock(relation, LockMode.ACCESS_EXCLUSIVE);
			b.lock(relation, LockMode.SHARE, Scope.TABLE);
		}
		else {
			b.lock(relation, LockMode.SHARE);
			b.lock(relation, LockMode.ACCESS_EXCLUSIVE, Scope.INDEXES);
		}
	}

	private static void vacuum(Cursor c, Builder b) {
		boolean full = false;
		if (c.peekIs('(')) {
			for (Cursor option : c.parens().splitRest(',')) {
				if (option.optionName().equals("full")) {
					full = option.booleanValue();
				}
			}
		}
		else {
			full = c.accept("FULL");
			c.accept("FREEZE");
			c.accept("VERBOSE");
			c.accept("ANALYZE");
			c.accept("ANALYSE");
		}
		List<String> tables = c.tableListWithColumns();
		if (tables.isEmpty()) {
			throw new Refused("VACUUM without a table processes every table of the database");
		}
		b.kind(full ? "VACUUM FULL" : "VACUUM");
		for (String table : tables) {
			b.lock(table, full ? LockMode.ACCESS_EXCLUSIVE : LockMode.SHARE_UPDATE_EXCLUSIVE);
		}
	}

	private static void analyze(Cursor c, Builder b) {
		if (c.peekIs('(')) {
			c.skipParens();
		}
		c.accept("VERBOSE");
		List<String> tables = c.tableListWithColumns();
		if (tables.isEmpty()) {
			throw new Refused("ANALYZE without a table processes every table of the database");
		}
		b.kind("ANALYZE");
		for (String table : tables) {
			b.lock(table, LockMode.SHARE_UPDATE_EXCLUSIVE);
		}
	}

	private static void cluster(Cursor c, Builder b) {
		if (c.peekIs('(')) {
			c.skipParens();
		}
		c.accept("VERBOSE");
		if (c.atEnd()) {
			throw new Refused("CLUSTER without a table re-clusters every clustered table, outside a transaction");
		}
		String table = c.relation();
		if (c.accept("USING")) {
			c.name("index");
		}
		else if (c.peekIs("ON")) {
			throw new Refused("CLUSTER index ON table is the pre-8.3 spelling; write CLUSTER table USING index");
		}
		c.expectEnd();
		b.kind("CLUSTER");
		b.lock(table, LockMode.ACCESS_EXCLUSIVE);
	}

	private static void truncate(Cursor c, Builder b) {
		c.accept("TABLE");
		b.kind("TRUNCATE");
		List<String> tables = c.relationList();
		// sequences reset by RESTART IDENTITY and tables reached by CASCADE are not named, so not reported
		if (!c.accept("RESTART", "IDENTITY")) {
			c.accept("CONTINUE", "IDENTITY");
		}
		boolean cascade = c.accept("CASCADE");
		c.accept("RESTRICT");
		c.expectEnd();
		for (String table : tables) {
			b.lock(table, LockMode.ACCESS_EXCLUSIVE);
			if (cascade) {
				// the referencing tables are emptied too (one level is reported; CASCADE follows chains further)
				b.lock(table, LockMode.ACCESS_EXCLUSIVE, Scope.FOREIGN_KEY_SOURCES);
			}
		}
	}

	private static void refresh(Cursor c, Builder b) {
		c.expect("MATERIALIZED", "VIEW");
		boolean concurrently = c.accept("CONCURRENTLY");
		String view = c.relation();
		b.kind("REFRESH MATERIALIZED VIEW" + (concurrently ? " CONCURRENTLY" : ""));
		// CONCURRENTLY keeps readers in (Exclusive) but is one ordinary transaction: it waits for nobody older
		b.lock(view, concurrently ? LockMode.EXCLUSIVE : LockMode.ACCESS_EXCLUSIVE);
	}

	private static void lock(Cursor c, Builder b) {
		c.accept("TABLE");
		List<String> tables = c.relationList();
		LockMode mode = LockMode.ACCESS_EXCLUSIVE;
		if (c.accept("IN")) {
			StringBuilder words = new StringBuilder();
			while (!c.atEnd() && !c.peekIs("MODE")) {
				Token word = c.next();
				if (!LOCK_MODE_WORDS.contains(word.upper())) {
					throw new Refused("'" + word.text() + "' is not part of a lock mode");
				}
				words.append(word.upper()).append(' ');
			}
			c.expect("MODE");
			mode = LockMode.lookup(words.toString().strip());
			if (mode == null) {
				throw new Refused("'" + words.toString().strip() + "' is not a lock mode");
			}
		}
		c.accept("NOWAIT");
		c.expectEnd();
		b.kind("LOCK TABLE");
		for (String table : tables) {
			b.lock(table, mode);
		}
	}

	private static void comment(Cursor c, Builder b) {
		c.expect("ON");
		// CommentObject looks the object up under ShareUpdateExclusive, so two comments do not race
		String object = c.accept("TABLE") ? "TABLE" : c.accept("INDEX") ? "INDEX" : c.accept("VIEW") ? "VIEW"
				: c.accept("MATERIALIZED", "VIEW") ? "MATERIALIZED VIEW" : null;
		if (object != null) {
			b.kind("COMMENT ON " + object);
			b.lock(c.relation(), LockMode.SHARE_UPDATE_EXCLUSIVE);
		}
		else if (c.accept("COLUMN")) {
			b.kind("COMMENT ON COLUMN");
			b.lock(c.columnOwner(), LockMode.SHARE_UPDATE_EXCLUSIVE);
		}
		else if (c.accept("CONSTRAINT") || c.accept("TRIGGER")) {
			String what = c.previous().upper();
			c.name(what.toLowerCase(java.util.Locale.ROOT));
			c.expect("ON");
			if (c.accept("DOMAIN")) {
				throw new Refused("a domain constraint locks no relation");
			}
			b.kind("COMMENT ON " + what);
			// the constraint or trigger object gets ShareUpdateExclusive; its table only AccessShare
			b.lock(c.relation(), LockMode.ACCESS_SHARE);
		}
		else {
			throw new Refused("COMMENT ON " + c.describeNext() + " is not a statement pg-lockwatch knows");
		}
		c.expect("IS");
	}

	private static LockMode max(LockMode a, LockMode b) {
		if (a == null) {
			return b;
		}
		return (b.ordinal() > a.ordinal()) ? b : a;
	}

	/** Collects the locks of one statement, the strongest mode per relation. */
	private static final class Builder {

		private final Map<String, RelationLock> locks = new LinkedHashMap<>();

		private String kind;

		private boolean concurrently;

		void kind(String kind) {
			this.kind = kind;
		}

		void lock(String relation, LockMode mode) {
			lock(relation, mode, Scope.RELATION);
		}

		void lock(String relation, LockMode mode, Scope scope) {
			// "users" and "Users" are one relation; "users" and "public.users" may not be, so they stay apart
			lock(relation, mode, scope, null);
		}

		void lock(String relation, LockMode mode, Scope scope, String detail) {
			String key = scope + " " + detail + " " + QualifiedName.parse(relation);
			RelationLock known = this.locks.get(key);
			LockMode strongest = (known == null) ? mode : max(known.mode(), mode);
			this.locks.put(key, new RelationLock((known == null) ? relation : known.relation(), strongest, scope, detail));
		}

		Classification build() {
			LockMode mode = null;
			for (RelationLock lock : this.locks.values()) {
				mode = max(mode, lock.mode());
			}
			return new Classification(mode, List.copyOf(this.locks.values()), this.concurrently,
					this.kind);
		}

	}

	/** Why a statement is refused; turned into {@link UnclassifiableStatementException} with the statement. */
	private static final class Refused extends RuntimeException {

		Refused(String reason) {
			super(reason, null, false, false);
		}

	}

	/** Reads tokens from left to right. */
	private static final class Cursor {

		private final String sql;

		private final List<Token> tokens;

		private int i;

		Cursor(String sql, List<Token> tokens) {
			this.sql = sql;
			this.tokens = tokens;
		}

		boolean atEnd() {
			return this.i >= this.tokens.size();
		}

		Token next() {
			if (atEnd()) {
				throw new Refused("it ends too early");
			}
			return this.tokens.get(this.i++);
		}

		Token previous() {
			return this.tokens.get(this.i - 1);
		}

		/** The next token for a message, or "nothing". */
		String describeNext() {
			return atEnd() ? "(nothing)" : this.tokens.get(this.i).text();
		}

		boolean peekIs(char c) {
			return !atEnd() && this.tokens.get(this.i).is(c);
		}

		/** Whether the next tokens are these words; a word "(" matches that character. */
		boolean peekIs(String... words) {
			if (this.i + words.length > this.tokens.size()) {
				return false;
			}
			for (int k = 0; k < words.length; k++) {
				Token token = this.tokens.get(this.i + k);
				// a one-character non-letter "word" is punctuation: "(", ",", "=", "*", "."
				boolean punctuation = words[k].length() == 1 && !Character.isLetter(words[k].charAt(0));
				boolean match = punctuation ? token.is(words[k].charAt(0)) : token.is(words[k]);
				if (!match) {
					return false;
				}
			}
			return true;
		}

		boolean accept(String... words) {
			if (peekIs(words)) {
				this.i += words.length;
				return true;
			}
			return false;
		}

		void acceptAny(String... words) {
			for (String word : words) {
				if (accept(word)) {
					return;
				}
			}
		}

		void expect(String... words) {
			if (!accept(words)) {
				throw new Refused("expected " + String.join(" ", words) + " but found '" + describeNext() + "'");
			}
		}

		void expectEnd() {
			if (!atEnd()) {
				throw new Refused("unexpected '" + describeNext() + "'");
			}
		}

		/** Whether {@code words} follow somewhere ahead at parenthesis depth 0, without moving. */
		boolean containsAhead(String... words) {
			int depth = 0;
			for (int k = this.i; k < this.tokens.size(); k++) {
				Token token = this.tokens.get(k);
				depth += token.is('(') ? 1 : token.is(')') ? -1 : 0;
				if (depth == 0 && token.is(words[0])) {
					int saved = this.i;
					this.i = k;
					boolean match = peekIs(words);
					this.i = saved;
					if (match) {
						return true;
					}
				}
			}
			return false;
		}

		/** Moves past the next bare {@code word} at parenthesis depth 0; false (at the end) when there is none. */
		boolean skipTo(String word) {
			int depth = 0;
			while (!atEnd()) {
				Token token = next();
				if (depth == 0 && token.is(word)) {
					return true;
				}
				depth += token.is('(') ? 1 : token.is(')') ? -1 : 0;
			}
			return false;
		}

		/** A column, constraint or other simple name, as PostgreSQL stores it. */
		String name(String what) {
			if (atEnd() || !this.tokens.get(this.i).isName()) {
				throw new Refused("expected a " + what + " name but found '" + describeNext() + "'");
			}
			return next().identifier();
		}

		/**
		 * {@code [ONLY] name[.name] [*]}, returned as written. A relation name is a bare or quoted word, optionally
		 * schema-qualified; anything else (a third part, a literal) is refused.
		 */
		String relation() {
			accept("ONLY");
			if (atEnd() || !this.tokens.get(this.i).isName()) {
				throw new Refused("expected a relation name but found '" + describeNext() + "'");
			}
			Token first = next();
			Token last = first;
			while (peekIs('.') && this.i + 1 < this.tokens.size() && this.tokens.get(this.i + 1).isName()) {
				this.i++;
				last = next();
			}
			String written = this.sql.substring(first.start(), last.end());
			try {
				QualifiedName.parse(written);
			}
			catch (IllegalArgumentException ex) {
				throw new Refused(ex.getMessage());
			}
			// "name *" asks for the descendant tables too, which is the default anyway
			accept("*");
			return written;
		}

		/** The relation after REFERENCES (its column list is skipped). */
		String referencedTable() {
			if (!skipTo("REFERENCES")) {
				throw new Refused("FOREIGN KEY names no referenced table");
			}
			return relation();
		}

		/** {@code rel [, rel ...]}; the caller reads what follows. */
		List<String> relationList() {
			List<String> relations = new ArrayList<>();
			do {
				relations.add(relation());
			}
			while (accept(","));
			return relations;
		}

		/** VACUUM / ANALYZE: {@code table [(columns)] [, ...]}, possibly none. */
		List<String> tableListWithColumns() {
			List<String> tables = new ArrayList<>();
			while (!atEnd()) {
				tables.add(relation());
				if (peekIs('(')) {
					skipParens();
				}
				if (!accept(",")) {
					expectEnd();
				}
			}
			return tables;
		}

		/** COMMENT ON COLUMN: {@code [schema.]table.column} -> the table part as written. */
		String columnOwner() {
			int start = this.i;
			relationWithColumn: {
				List<Token> parts = new ArrayList<>();
				while (!atEnd() && this.tokens.get(this.i).isName()) {
					parts.add(next());
					if (!accept(".")) {
						break;
					}
				}
				if (parts.size() < 2 || parts.size() > 3) {
					break relationWithColumn;
				}
				Token first = this.tokens.get(start);
				Token lastOfRelation = parts.get(parts.size() - 2);
				return this.sql.substring(first.start(), lastOfRelation.end());
			}
			throw new Refused("COMMENT ON COLUMN needs table.column or schema.table.column");
		}

		/** The contents of the parenthesis at the cursor, as a cursor of their own. */
		Cursor parens() {
			if (!peekIs('(')) {
				throw new Refused("expected '(' but found '" + describeNext() + "'");
			}
			int open = this.i;
			skipParens();
			return new Cursor(this.sql, this.tokens.subList(open + 1, this.i - 1));
		}

		void skipParens() {
			int depth = 0;
			do {
				Token token = next();
				depth += token.is('(') ? 1 : token.is(')') ? -1 : 0;
			}
			while (depth > 0);
		}

		/** The rest, split at {@code separator} outside parentheses. */
		List<Cursor> splitRest(char separator) {
			List<Cursor> parts = new ArrayList<>();
			int depth = 0;
			int from = this.i;
			for (int k = this.i; k < this.tokens.size(); k++) {
				Token token = this.tokens.get(k);
				depth += token.is('(') ? 1 : token.is(')') ? -1 : 0;
				if (depth == 0 && token.is(separator)) {
					parts.add(new Cursor(this.sql, this.tokens.subList(from, k)));
					from = k + 1;
				}
			}
			parts.add(new Cursor(this.sql, this.tokens.subList(from, this.tokens.size())));
			this.i = this.tokens.size();
			return parts;
		}

		/** An option or storage parameter name: {@code name} or {@code toast.name}, lower case. */
		String optionName() {
			StringBuilder name = new StringBuilder();
			do {
				if (atEnd() || !this.tokens.get(this.i).isName()) {
					throw new Refused("expected an option name but found '" + describeNext() + "'");
				}
				if (name.length() > 0) {
					name.append('.');
				}
				name.append(next().identifier());
			}
			while (accept("."));
			return name.toString();
		}

		/** The value after an option name; none means true, as in PostgreSQL's defGetBoolean. */
		boolean booleanValue() {
			accept("=");
			if (atEnd()) {
				return true;
			}
			String value = next().text().toLowerCase(java.util.Locale.ROOT).replace("'", "");
			return switch (value) {
				case "true", "on", "1", "yes" -> true;
				case "false", "off", "0", "no" -> false;
				default -> throw new Refused("'" + value + "' is not a boolean");
			};
		}

	}

}

package io.pglockwatch.lint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.pglockwatch.lint.SqlScript.Statement;
import io.pglockwatch.lint.SqlScript.Token;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.sql.QualifiedName;
import io.pglockwatch.sql.StatementLockModes;
import io.pglockwatch.sql.StatementLockModes.Classification;
import io.pglockwatch.sql.StatementLockModes.RelationLock;
import io.pglockwatch.sql.StatementLockModes.Scope;

/**
 * The migration lint: reads migration files (no database) and reports the statements that would block reads or
 * writes for longer than they need to, or fail, with the lock each one takes as the service's preflight table
 * ({@link StatementLockModes}, one copy) gives it. docs/lint.md describes the rules.
 * <p>
 * Files are read as Flyway runs them: a file is one transaction unless Flyway runs it outside one (it holds
 * {@code CREATE/DROP INDEX CONCURRENTLY}, {@code VACUUM}, ... or its {@code .sql.conf} says
 * {@code executeInTransaction=false}); explicit {@code BEGIN} / {@code COMMIT} in a file are followed. Files of a
 * directory are read in Flyway's version order, so a constraint added {@code NOT VALID} in one migration and
 * validated in a later one is known to the {@code SET NOT NULL} after it. A relation created in the same file is
 * new, empty and locked by nobody else: statements on it are never findings.
 */
public final class Lint {

	/** The longest statement excerpt in a finding. */
	static final int EXCERPT = 160;

	/** Flyway 12's PostgreSQLParser: statements that make Flyway run the whole file outside a transaction. */
	private static final List<Pattern> FLYWAY_NON_TRANSACTIONAL = List.of(
			Pattern.compile("^(CREATE|DROP) (DATABASE|TABLESPACE|SUBSCRIPTION)\\b"),
			Pattern.compile("^ALTER SYSTEM\\b"),
			Pattern.compile("^(CREATE|DROP)( UNIQUE)? INDEX CONCURRENTLY\\b"),
			Pattern.compile("^REINDEX( VERBOSE)? (SCHEMA|DATABASE|SYSTEM)\\b"),
			Pattern.compile("^VACUUM\\b"),
			Pattern.compile("^DISCARD ALL\\b"));

	private static final Pattern FLYWAY_VERSIONED = Pattern.compile("^[VU]([0-9]+(?:[._][0-9]+)*)__.*");

	private static final Set<String> SERIAL_TYPES = Set.of("serial", "serial2", "serial4", "serial8", "smallserial",
			"bigserial");

	/** Functions whose result a fast default (PostgreSQL 11+) can store once: immutable or stable. */
	private static final Set<String> NON_VOLATILE_FUNCTIONS = Set.of("now", "current_timestamp", "current_date",
			"current_time", "localtime", "localtimestamp", "transaction_timestamp", "statement_timestamp", "cast",
			"coalesce", "nullif", "greatest", "least", "lower", "upper", "trim", "btrim", "concat", "length",
			"replace", "substring", "abs", "round", "to_jsonb", "to_json", "jsonb_build_object", "json_build_object",
			"jsonb_build_array", "json_build_array", "array", "row", "make_interval", "make_date", "make_timestamp",
			"make_timestamptz", "date_trunc", "current_setting", "current_user", "session_user", "current_schema",
			"to_timestamp", "to_date", "timezone", "md5", "encode", "decode", "array_fill", "int4range", "int8range",
			"tstzrange", "numrange", "daterange", "point");

	private static final Set<String> VOLATILE_FUNCTIONS = Set.of("random", "gen_random_uuid", "uuid_generate_v1",
			"uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7", "clock_timestamp", "timeofday", "nextval",
			"setval", "random_normal", "txid_current", "pg_current_xact_id", "gen_random_bytes");

	/** Words that start the next column constraint after a DEFAULT expression. */
	private static final Set<String> COLUMN_CONSTRAINT_WORDS = Set.of("NOT", "NULL", "CONSTRAINT", "CHECK",
			"UNIQUE", "PRIMARY", "REFERENCES", "GENERATED", "COLLATE", "DEFAULT", "DEFERRABLE", "INITIALLY");

	/**
	 * How the lint reads the migrations.
	 * @param gateManaged the pg-lockwatch gate runs the migrations: it sets lock_timeout and retries, so
	 * {@code strong-lock-without-lock-timeout} is not reported
	 */
	public record Options(boolean gateManaged) {

		public static Options defaults() {
			return new Options(false);
		}

		public Options withGateManaged(boolean gate) {
			return new Options(gate);
		}

	}

	/** A file cannot be read or is not SQL the lint can split into statements. */
	public static final class LintException extends RuntimeException {

		public LintException(String message, Throwable cause) {
			super(message, cause);
		}

	}

	private final Options options;

	private final List<Finding> findings = new ArrayList<>();

	/** Constraints added NOT VALID: "table/constraint" -> the column of its CHECK (col IS NOT NULL). */
	private final Map<String, String> pendingNotNullChecks = new HashMap<>();

	/** "table/column" with a validated CHECK (col IS NOT NULL) or NOT NULL constraint. */
	private final Set<String> validatedNotNull = new HashSet<>();

	private Lint(Options options) {
		this.options = options;
	}

	/** Lints files and directories (their {@code .sql} files, in Flyway's order) with the default options. */
	public static List<Finding> check(Path... filesOrDirs) {
		return check(Options.defaults(), filesOrDirs);
	}

	/**
	 * Lints files and directories (their {@code .sql} files, recursively, in Flyway's order).
	 * @throws LintException when a path does not exist or a file cannot be read or split
	 */
	public static List<Finding> check(Options options, Path... filesOrDirs) {
		Lint lint = new Lint(options);
		for (Path file : sqlFiles(filesOrDirs)) {
			String sql;
			try {
				sql = Files.readString(file, StandardCharsets.UTF_8);
			}
			catch (IOException | UncheckedIOException ex) {
				throw new LintException("cannot read " + file + ": " + ex.getMessage(), ex);
			}
			lint.file(file.toString(), sql, executeInTransaction(file));
		}
		return List.copyOf(lint.findings);
	}

	/** Lints one migration's text with the default options; {@code name} is the file name findings carry. */
	public static List<Finding> lint(String name, String sql) {
		return lint(Options.defaults(), name, sql);
	}

	/** Lints one migration's text; {@code name} is the file name findings carry. */
	public static List<Finding> lint(Options options, String name, String sql) {
		Lint lint = new Lint(options);
		lint.file(name, sql, null);
		return List.copyOf(lint.findings);
	}

	// ---- files

	static List<Path> sqlFiles(Path... filesOrDirs) {
		List<Path> files = new ArrayList<>();
		for (Path path : filesOrDirs) {
			if (Files.isDirectory(path)) {
				try (Stream<Path> walk = Files.walk(path)) {
					walk.filter(Files::isRegularFile)
						.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".sql"))
						.forEach(files::add);
				}
				catch (IOException | UncheckedIOException ex) {
					throw new LintException("cannot read directory " + path + ": " + ex.getMessage(), ex);
				}
			}
			else if (Files.isRegularFile(path)) {
				files.add(path);
			}
			else {
				throw new LintException("no such file or directory: " + path, null);
			}
		}
		files.sort(Comparator.comparing(Lint::flywayOrder).thenComparing(Path::toString));
		return files;
	}

	/** Versioned migrations by version, then repeatable ones and any other file by name. */
	private static String flywayOrder(Path file) {
		Matcher versioned = FLYWAY_VERSIONED.matcher(file.getFileName().toString());
		if (!versioned.matches()) {
			return "1 " + file.getFileName();
		}
		StringBuilder key = new StringBuilder("0");
		for (String part : versioned.group(1).split("[._]")) {
			// fixed width, so that 2 sorts before 10
			key.append(' ').append(String.format("%020d", new BigInteger(part).mod(BigInteger.TEN.pow(20))));
		}
		return key.toString();
	}

	/** Flyway's script config file next to the script: its executeInTransaction, or null. */
	private static Boolean executeInTransaction(Path file) {
		Path conf = file.resolveSibling(file.getFileName() + ".conf");
		if (!Files.isRegularFile(conf)) {
			return null;
		}
		Properties properties = new Properties();
		try (var reader = Files.newBufferedReader(conf, StandardCharsets.UTF_8)) {
			properties.load(reader);
		}
		catch (IOException ex) {
			throw new LintException("cannot read " + conf + ": " + ex.getMessage(), ex);
		}
		String value = properties.getProperty("executeInTransaction");
		return (value == null) ? null : Boolean.valueOf(value.strip());
	}

	// ---- one file

	/** Per file: what it created, the transaction it is in and what that holds. */
	private final class FileState {

		final String name;

		final boolean transactional;

		/** Why statements run in a transaction, for messages. */
		final String transactionReason;

		final List<QualifiedName> created = new ArrayList<>();

		boolean inTransaction;

		int explicitBeginLine;

		/** Strong locks the current transaction holds: relation key -> (mode, relation as written, line). */
		final Map<String, Held> held = new LinkedHashMap<>();

		Boolean sessionTimeout;

		Boolean localTimeout;

		FileState(String name, boolean transactional, String transactionReason) {
			this.name = name;
			this.transactional = transactional;
			this.transactionReason = transactionReason;
			this.inTransaction = transactional;
		}

		boolean isNew(String relation) {
			QualifiedName name = parseName(relation);
			if (name == null) {
				return false;
			}
			for (QualifiedName known : this.created) {
				if (known.name().equals(name.name())
						&& (known.schema() == null || name.schema() == null || known.schema().equals(name.schema()))) {
					return true;
				}
			}
			return false;
		}

		boolean lockTimeoutSet() {
			Boolean local = this.inTransaction ? this.localTimeout : null;
			return (local != null) ? local : Boolean.TRUE.equals(this.sessionTimeout);
		}

		void endTransaction() {
			this.held.clear();
			this.localTimeout = null;
			this.inTransaction = this.transactional;
			this.explicitBeginLine = 0;
		}

	}

	private record Held(LockMode mode, String relation, int line) {
	}

	private void file(String name, String sql, Boolean executeInTransaction) {
		List<Statement> statements;
		try {
			statements = SqlScript.parse(sql);
		}
		catch (SqlScript.MalformedSqlException ex) {
			throw new LintException(name + ":" + ex.line + ": " + ex.getMessage(), ex);
		}
		String detected = null;
		for (Statement statement : statements) {
			String keywords = statement.keywords(5);
			for (Pattern pattern : FLYWAY_NON_TRANSACTIONAL) {
				if (detected == null && pattern.matcher(keywords).find()) {
					detected = keywords;
				}
			}
		}
		boolean transactional;
		String reason;
		if (executeInTransaction != null) {
			transactional = executeInTransaction;
			reason = "its .sql.conf sets executeInTransaction=" + executeInTransaction;
		}
		else {
			transactional = (detected == null);
			reason = "Flyway runs a migration in one transaction unless it holds a statement that cannot run in one "
					+ "(CREATE/DROP INDEX CONCURRENTLY, VACUUM, ...)";
		}
		FileState state = new FileState(name, transactional, reason);
		for (Statement statement : statements) {
			statement(state, statement);
		}
	}

	private void statement(FileState state, Statement statement) {
		List<Token> t = statement.tokens();
		Token first = t.get(0);
		// transaction control
		if ((first.is("BEGIN") && (t.size() == 1 || !t.get(1).is("ATOMIC"))) || (first.is("START") && t.size() > 1
				&& t.get(1).is("TRANSACTION"))) {
			if (!state.inTransaction) {
				state.inTransaction = true;
				state.explicitBeginLine = statement.line();
			}
			return;
		}
		if (first.is("COMMIT") || first.is("END") || first.is("ABORT")
				|| (first.is("ROLLBACK") && !(t.size() > 1 && (t.get(1).is("TO") || t.get(1).is("PREPARED"))))) {
			if (!(t.size() > 1 && t.get(1).is("PREPARED"))) {
				state.endTransaction();
			}
			return;
		}
		if (lockTimeoutSetting(state, t)) {
			return;
		}
		Classification classification;
		try {
			classification = StatementLockModes.classify(statement.text());
		}
		catch (IllegalArgumentException ex) {
			classification = null;
		}
		Context ctx = new Context(state, statement, classification);
		if (classification != null) {
			locksRules(ctx);
		}
		if (first.is("ALTER") && t.size() > 1 && t.get(1).is("TABLE")) {
			alterTable(ctx);
		}
		recordCreated(state, t);
		if (!state.inTransaction) {
			state.held.clear();
		}
	}

	/** What the rules of one statement need. */
	private final class Context {

		final FileState state;

		final Statement statement;

		final Classification classification;

		/** The locks on relations that exist before this file: the ones that can queue and block others. */
		final List<RelationLock> existing = new ArrayList<>();

		Context(FileState state, Statement statement, Classification classification) {
			this.state = state;
			this.statement = statement;
			this.classification = classification;
			if (classification != null) {
				for (RelationLock lock : classification.relations()) {
					boolean named = lock.scope() == Scope.RELATION || lock.scope() == Scope.TABLE
							|| lock.scope() == Scope.INDEXES;
					if (named && !state.isNew(lock.relation())) {
						this.existing.add(lock);
					}
				}
			}
		}

		void report(Rule rule, LockMode mode, String relation, String message, String safe) {
			if (this.statement.allowed().containsKey(rule.id())) {
				return;
			}
			Lint.this.findings.add(new Finding(this.state.name, this.statement.line(), this.statement.column(),
					this.statement.excerpt(EXCERPT), rule, rule.severity(), mode, relation, Finding.blocks(mode),
					message, (safe != null) ? safe : rule.safeAlternative()));
		}

	}

	// ---- rules read from the statement's locks

	private void locksRules(Context ctx) {
		Classification c = ctx.classification;
		FileState state = ctx.state;
		String kind = c.statementKind();
		if (c.concurrently() && state.inTransaction) {
			String why = (state.explicitBeginLine > 0) ? "it follows the BEGIN on line " + state.explicitBeginLine
					: "the file runs in one transaction: " + state.transactionReason
							+ (kind.startsWith("CREATE INDEX") || kind.startsWith("DROP INDEX") ? ""
									: "; Flyway does not detect " + kind + " as such");
			ctx.report(Rule.CONCURRENTLY_IN_TRANSACTION, c.mode(), c.relations().get(0).relation(),
					kind + " cannot run inside a transaction block and fails there; " + why + ".", null);
		}
		if (ctx.existing.isEmpty()) {
			return;
		}
		RelationLock strongest = strongest(ctx.existing);
		String target = firstNamed(ctx.existing);
		switch (kind) {
			case "CREATE INDEX" -> ctx.report(Rule.INDEX_WITHOUT_CONCURRENTLY, strongest.mode(), target,
					"CREATE INDEX takes " + strongest.mode().pgName() + " on " + target
							+ " for the whole index build: writes to it wait until the index is built.",
					"CREATE INDEX CONCURRENTLY, alone in its own migration file (Flyway then runs it outside a "
							+ "transaction); if it fails, DROP INDEX CONCURRENTLY the invalid index and retry");
			case "DROP INDEX" -> ctx.report(Rule.INDEX_WITHOUT_CONCURRENTLY, strongest.mode(), target,
					"DROP INDEX takes " + strongest.mode().pgName() + " on the index and its table: while it "
							+ "waits for a transaction that uses the table, every read and write of the table "
							+ "queues behind it.",
					"DROP INDEX CONCURRENTLY, alone in its own migration file");
			case "REINDEX INDEX", "REINDEX TABLE" -> ctx.report(Rule.INDEX_WITHOUT_CONCURRENTLY, strongest.mode(),
					target, kind + " takes " + strongest.mode().pgName() + " on the index(es) it rebuilds and "
							+ "ShareLock on the table for the whole rebuild: queries that plan with those indexes "
							+ "and every write wait.",
					"REINDEX ... CONCURRENTLY (PostgreSQL 12+), in its own migration file with a "
							+ "V<n>__name.sql.conf saying executeInTransaction=false (Flyway does not detect it)");
			case "VACUUM FULL", "CLUSTER" -> ctx.report(Rule.VACUUM_FULL_OR_CLUSTER, strongest.mode(), target,
					kind + " rewrites " + target + " under " + strongest.mode().pgName()
							+ ": every read and write waits for the whole rewrite.",
					null);
			default -> {
			}
		}
		// locks this statement still has to queue for
		Map<String, RelationLock> toAcquire = new LinkedHashMap<>();
		for (RelationLock lock : ctx.existing) {
			if (!lock.mode().blocksWrites()) {
				continue;
			}
			String key = key(lock.relation());
			Held held = state.held.get(key);
			if (held != null && held.mode().ordinal() >= lock.mode().ordinal()) {
				continue;
			}
			RelationLock known = toAcquire.get(key);
			if (known == null || lock.mode().ordinal() > known.mode().ordinal()) {
				toAcquire.put(key, lock);
			}
		}
		if (toAcquire.isEmpty()) {
			return;
		}
		RelationLock strongestNew = strongest(new ArrayList<>(toAcquire.values()));
		String names = String.join(", ", toAcquire.values().stream().map(RelationLock::relation).toList());
		if (!this.options.gateManaged() && !state.lockTimeoutSet()) {
			ctx.report(Rule.STRONG_LOCK_WITHOUT_LOCK_TIMEOUT, strongestNew.mode(), names,
					kind + " takes " + strongestNew.mode().pgName() + " on " + names + " with no lock_timeout: "
							+ "if another transaction holds any conflicting lock, it waits without limit and "
							+ Finding.blocks(strongestNew.mode()) + " on " + names + " queue behind it.",
					null);
		}
		if (state.inTransaction) {
			List<String> others = new ArrayList<>();
			for (Map.Entry<String, Held> held : state.held.entrySet()) {
				if (!toAcquire.containsKey(held.getKey())) {
					others.add(held.getValue().mode().pgName() + " on " + held.getValue().relation() + " (line "
							+ held.getValue().line() + ")");
				}
			}
			if (!others.isEmpty()) {
				ctx.report(Rule.SEVERAL_STRONG_LOCKS, strongestNew.mode(), names,
						kind + " queues for " + strongestNew.mode().pgName() + " on " + names
								+ " while the transaction already holds " + String.join(", ", others)
								+ ": those tables stay blocked for as long as it waits, and two migrations that "
								+ "lock in another order deadlock.",
						null);
			}
			for (Map.Entry<String, RelationLock> lock : toAcquire.entrySet()) {
				state.held.merge(lock.getKey(),
						new Held(lock.getValue().mode(), lock.getValue().relation(), ctx.statement.line()),
						(a, b) -> (b.mode().ordinal() > a.mode().ordinal()) ? b : a);
			}
		}
	}

	private static RelationLock strongest(List<RelationLock> locks) {
		RelationLock best = locks.get(0);
		for (RelationLock lock : locks) {
			if (lock.mode().ordinal() > best.mode().ordinal()) {
				best = lock;
			}
		}
		return best;
	}

	private static String firstNamed(List<RelationLock> locks) {
		for (RelationLock lock : locks) {
			if (lock.scope() == Scope.RELATION) {
				return lock.relation();
			}
		}
		return locks.get(0).relation();
	}

	// ---- lock_timeout

	/** SET [SESSION | LOCAL] lock_timeout ..., RESET lock_timeout, SELECT set_config('lock_timeout', ...). */
	private static boolean lockTimeoutSetting(FileState state, List<Token> t) {
		int i = 0;
		boolean local = false;
		if (t.get(0).is("RESET") && t.size() > 1 && (t.get(1).is("lock_timeout") || t.get(1).is("ALL"))) {
			state.sessionTimeout = false;
			state.localTimeout = null;
			return true;
		}
		if (t.get(0).is("SET")) {
			i = 1;
			if (i < t.size() && t.get(i).is("LOCAL")) {
				local = true;
				i++;
			}
			else if (i < t.size() && t.get(i).is("SESSION")) {
				i++;
			}
			if (i >= t.size() || !t.get(i).is("lock_timeout")) {
				return false;
			}
			i++;
			if (i < t.size() && (t.get(i).is('=') || t.get(i).is("TO"))) {
				i++;
			}
			boolean on = i < t.size() && !t.get(i).is("DEFAULT") && !isZero(t.get(i).text());
			setTimeout(state, local, on);
			return true;
		}
		if (t.get(0).is("SELECT") && t.size() > 5 && t.get(1).is("set_config") && t.get(2).is('(')
				&& t.get(3).text().equalsIgnoreCase("'lock_timeout'") && t.get(4).is(',')) {
			boolean on = !isZero(t.get(5).text());
			boolean isLocal = t.size() > 7 && t.get(6).is(',') && t.get(7).is("true");
			setTimeout(state, isLocal, on);
			return true;
		}
		return false;
	}

	private static void setTimeout(FileState state, boolean local, boolean on) {
		if (local) {
			// outside a transaction block SET LOCAL lasts for its own statement only
			if (state.inTransaction) {
				state.localTimeout = on;
			}
		}
		else {
			state.sessionTimeout = on;
		}
	}

	private static boolean isZero(String value) {
		String v = value.replace("'", "").strip().toLowerCase(Locale.ROOT);
		return v.matches("0+(\\.0*)?\\s*(ms|s|min|h|d|us)?");
	}

	// ---- ALTER TABLE actions

	private void alterTable(Context ctx) {
		List<Token> t = ctx.statement.tokens();
		int i = 2;
		if (i + 1 < t.size() && t.get(i).is("IF") && t.get(i + 1).is("EXISTS")) {
			i += 2;
		}
		if (i < t.size() && t.get(i).is("ONLY")) {
			i++;
		}
		int nameStart = i;
		if (i >= t.size() || !t.get(i).isName()) {
			return;
		}
		i++;
		while (i + 1 < t.size() && t.get(i).is('.') && t.get(i + 1).isName()) {
			i += 2;
		}
		String table = text(t, nameStart, i);
		if (i < t.size() && t.get(i).is('*')) {
			i++;
		}
		boolean isNew = ctx.state.isNew(table);
		for (List<Token> action : splitTopLevel(t.subList(i, t.size()))) {
			if (!action.isEmpty()) {
				alterTableAction(ctx, table, isNew, action);
			}
		}
	}

	private void alterTableAction(Context ctx, String table, boolean isNew, List<Token> a) {
		String tableKey = key(table);
		if (a.get(0).is("ADD")) {
			int i = 1;
			boolean constraint = a.size() > 1 && (a.get(1).is("CONSTRAINT") || a.get(1).is("CHECK")
					|| a.get(1).is("UNIQUE") || a.get(1).is("PRIMARY") || a.get(1).is("FOREIGN")
					|| a.get(1).is("EXCLUDE") || (a.get(1).is("NOT") && a.size() > 2 && a.get(2).is("NULL")));
			if (constraint) {
				addConstraint(ctx, table, tableKey, isNew, a);
				return;
			}
			if (i < a.size() && a.get(i).is("COLUMN")) {
				i++;
			}
			if (i + 2 < a.size() && a.get(i).is("IF") && a.get(i + 1).is("NOT") && a.get(i + 2).is("EXISTS")) {
				i += 3;
			}
			if (i < a.size()) {
				addColumn(ctx, table, isNew, a, i);
			}
			return;
		}
		if (a.get(0).is("ALTER")) {
			int i = 1;
			if (i < a.size() && a.get(i).is("COLUMN")) {
				i++;
			}
			if (i >= a.size() || a.get(i).is("CONSTRAINT")) {
				return;
			}
			String column = a.get(i).identifier();
			List<Token> rest = a.subList(i + 1, a.size());
			if (isNew) {
				return;
			}
			LockMode mode = actionMode(ctx, table, a);
			if (startsWith(rest, "TYPE") || startsWith(rest, "SET", "DATA", "TYPE")) {
				ctx.report(Rule.TABLE_REWRITE, mode, table, "changing the type of " + table + "." + column
						+ " rewrites the table and rebuilds its indexes under " + mode.pgName()
						+ " (unless the change is binary-coercible): every read and write waits for the rewrite.",
						null);
			}
			else if (startsWith(rest, "SET", "EXPRESSION")) {
				ctx.report(Rule.TABLE_REWRITE, mode, table, "SET EXPRESSION recomputes the stored column "
						+ table + "." + column + " for every row under " + mode.pgName() + ".", null);
			}
			else if (startsWith(rest, "SET", "NOT", "NULL")) {
				if (!this.validatedNotNull.contains(tableKey + "/" + column)) {
					ctx.report(Rule.SET_NOT_NULL, mode, table, "SET NOT NULL scans all of " + table
							+ " under " + mode.pgName() + " to check " + column
							+ " has no nulls: every read and write waits for the scan.", null);
				}
			}
			return;
		}
		if (a.get(0).is("VALIDATE") && a.size() > 2 && a.get(1).is("CONSTRAINT")) {
			String column = this.pendingNotNullChecks.remove(tableKey + "/" + a.get(2).identifier());
			if (column != null) {
				this.validatedNotNull.add(tableKey + "/" + column);
			}
			return;
		}
		if (isNew) {
			return;
		}
		String rewrite = null;
		if (startsWith(a, "SET", "TABLESPACE")) {
			rewrite = "SET TABLESPACE copies the whole table";
		}
		else if (startsWith(a, "SET", "LOGGED") || startsWith(a, "SET", "UNLOGGED")) {
			rewrite = a.get(0).upper() + " " + a.get(1).upper() + " rewrites the whole table";
		}
		else if (startsWith(a, "SET", "ACCESS", "METHOD")) {
			rewrite = "SET ACCESS METHOD rewrites the whole table";
		}
		if (rewrite != null) {
			LockMode mode = actionMode(ctx, table, a);
			ctx.report(Rule.TABLE_REWRITE, mode, table,
					rewrite + " (" + table + ") under " + mode.pgName() + ": every read and write waits.",
					"create a new table and copy the rows over in batches, or accept it for a small table with a "
							+ "pglockwatch:allow comment");
		}
	}

	private void addConstraint(Context ctx, String table, String tableKey, boolean isNew, List<Token> a) {
		int i = 1;
		String name = null;
		if (a.get(i).is("CONSTRAINT") && i + 1 < a.size()) {
			name = a.get(i + 1).identifier();
			i += 2;
		}
		if (i >= a.size()) {
			return;
		}
		boolean notValid = containsTopLevel(a, "NOT", "VALID");
		Token type = a.get(i);
		LockMode mode = actionMode(ctx, table, a);
		if (type.is("CHECK") || type.is("NOT")) {
			String column = notNullColumn(a, i);
			if (column != null) {
				if (notValid && name != null) {
					this.pendingNotNullChecks.put(tableKey + "/" + name, column);
				}
				else if (!notValid) {
					this.validatedNotNull.add(tableKey + "/" + column);
				}
			}
			if (!notValid && !isNew) {
				String what = type.is("CHECK") ? "CHECK constraint" : "NOT NULL constraint";
				ctx.report(Rule.CONSTRAINT_WITHOUT_NOT_VALID, mode, table, "adding a " + what + " scans all of "
						+ table + " under " + mode.pgName() + " to check the existing rows.", null);
			}
		}
		else if (type.is("FOREIGN")) {
			if (!notValid && !isNew) {
				String referenced = referenced(a);
				ctx.report(Rule.CONSTRAINT_WITHOUT_NOT_VALID, mode, table, "adding a foreign key scans all of "
						+ table + " under " + mode.pgName() + " on it"
						+ ((referenced != null) ? " and on " + referenced : "") + " to check the existing rows.",
						null);
			}
		}
		else if (type.is("UNIQUE") || type.is("PRIMARY") || type.is("EXCLUDE")) {
			if (!isNew && !containsTopLevel(a, "USING", "INDEX")) {
				String what = type.is("PRIMARY") ? "PRIMARY KEY" : type.upper();
				ctx.report(Rule.UNIQUE_WITHOUT_INDEX, mode, table, "ADD " + what + " builds its index on " + table
						+ " under " + mode.pgName() + ": every read and write waits for the index build.",
						type.is("EXCLUDE") ? "there is no USING INDEX for EXCLUDE: add it to a new, empty table, "
								+ "or accept it for a small table with a pglockwatch:allow comment" : null);
			}
		}
	}

	private void addColumn(Context ctx, String table, boolean isNew, List<Token> a, int nameAt) {
		if (isNew) {
			return;
		}
		String column = a.get(nameAt).identifier();
		LockMode mode = actionMode(ctx, table, a);
		String typeName = (nameAt + 1 < a.size()) ? a.get(nameAt + 1).identifier() : "";
		boolean serial = SERIAL_TYPES.contains(typeName);
		boolean notNull = false;
		boolean primaryKey = false;
		boolean unique = false;
		boolean references = false;
		boolean check = false;
		boolean identity = false;
		boolean stored = false;
		List<Token> defaultExpr = null;
		int depth = 0;
		for (int i = nameAt + 1; i < a.size(); i++) {
			Token token = a.get(i);
			if (token.is('(') || token.is('[')) {
				depth++;
				continue;
			}
			if (token.is(')') || token.is(']')) {
				depth--;
				continue;
			}
			if (depth != 0) {
				continue;
			}
			if (token.is("NOT") && i + 1 < a.size() && a.get(i + 1).is("NULL") && !(i > 0 && a.get(i - 1).is("IS"))) {
				notNull = true;
			}
			else if (token.is("PRIMARY")) {
				primaryKey = true;
			}
			else if (token.is("UNIQUE")) {
				unique = true;
			}
			else if (token.is("REFERENCES")) {
				references = true;
			}
			else if (token.is("CHECK")) {
				check = true;
			}
			else if (token.is("GENERATED")) {
				identity |= containsFrom(a, i, "IDENTITY");
				stored |= containsFrom(a, i, "STORED");
			}
			else if (token.is("DEFAULT") && defaultExpr == null) {
				defaultExpr = defaultExpression(a, i + 1);
			}
		}
		String volatileCall = (defaultExpr != null) ? volatileCall(defaultExpr) : null;
		if (serial) {
			ctx.report(Rule.ADD_COLUMN_VOLATILE_DEFAULT, mode, table, "ADD COLUMN " + column + " " + typeName
					+ " fills every existing row from a sequence (nextval() is volatile): the whole of " + table
					+ " is rewritten under " + mode.pgName() + ".",
					"add a nullable bigint column, attach a sequence with ALTER COLUMN SET DEFAULT nextval(...), "
							+ "backfill in batches; or add it as GENERATED BY DEFAULT AS IDENTITY to a new table");
		}
		else if (volatileCall != null) {
			boolean known = VOLATILE_FUNCTIONS.contains(volatileCall);
			ctx.report(Rule.ADD_COLUMN_VOLATILE_DEFAULT, mode, table, "ADD COLUMN " + column + " with DEFAULT "
					+ volatileCall + "(...), " + (known ? "which is volatile" : "which is not known to be stable "
							+ "or immutable (a function is volatile unless declared otherwise)")
					+ ": every existing row gets its own value, so the whole of " + table + " is rewritten under "
					+ mode.pgName() + ".", null);
		}
		if (identity || stored) {
			ctx.report(Rule.TABLE_REWRITE, mode, table, "ADD COLUMN " + column + (identity
					? " GENERATED AS IDENTITY gives every existing row a value"
					: " GENERATED ALWAYS AS (...) STORED computes it for every existing row")
					+ ": the whole of " + table + " is rewritten under " + mode.pgName() + ".",
					identity ? "add a nullable column, backfill in batches, then ADD GENERATED ... AS IDENTITY"
							: "add a virtual generated column (PostgreSQL 18), or a plain column backfilled in "
									+ "batches and kept up to date by a trigger");
		}
		if ((notNull || primaryKey) && defaultExpr == null && !serial && !identity && !stored) {
			ctx.report(Rule.ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT, mode, table, "ADD COLUMN " + column
					+ (primaryKey ? " PRIMARY KEY" : " NOT NULL") + " without a default fails as soon as " + table
					+ " has a row (the new column is null in every row).", null);
		}
		if (primaryKey || unique) {
			ctx.report(Rule.UNIQUE_WITHOUT_INDEX, mode, table, "ADD COLUMN " + column
					+ (primaryKey ? " PRIMARY KEY" : " UNIQUE") + " builds a unique index on " + table + " under "
					+ mode.pgName() + ": every read and write waits for the index build.",
					"add the column, CREATE UNIQUE INDEX CONCURRENTLY on it in its own migration, then ADD CONSTRAINT "
							+ "... " + (primaryKey ? "PRIMARY KEY" : "UNIQUE") + " USING INDEX");
		}
		if (references || check) {
			String referenced = references ? referenced(a) : null;
			ctx.report(Rule.CONSTRAINT_WITHOUT_NOT_VALID, mode, table, "ADD COLUMN " + column + " with "
					+ (references ? "REFERENCES " + ((referenced != null) ? referenced : "") : "CHECK")
					+ " checks every existing row of " + table + " while holding " + mode.pgName()
					+ (references ? " (and ShareRowExclusiveLock on " + referenced + ")" : "")
					+ "; a column constraint cannot be NOT VALID.",
					"add the column without the constraint, then ADD CONSTRAINT ... "
							+ (references ? "FOREIGN KEY" : "CHECK") + " ... NOT VALID, then VALIDATE CONSTRAINT "
							+ "in a later migration");
		}
	}

	/** The DEFAULT expression's tokens, up to the next column constraint. */
	private static List<Token> defaultExpression(List<Token> a, int from) {
		int depth = 0;
		int i = from;
		while (i < a.size()) {
			Token token = a.get(i);
			if (token.is('(') || token.is('[')) {
				depth++;
			}
			else if (token.is(')') || token.is(']')) {
				depth--;
			}
			else if (depth == 0 && i > from && token.kind() == SqlScript.Kind.WORD
					&& COLUMN_CONSTRAINT_WORDS.contains(token.upper())
					&& !(token.is("NULL") && a.get(i - 1).is("IS")) && !(token.is("NOT") && a.get(i - 1).is("IS"))) {
				break;
			}
			i++;
		}
		return a.subList(from, i);
	}

	/** The first function called in {@code expr} that is not known to be stable or immutable, or null. */
	private static String volatileCall(List<Token> expr) {
		for (int i = 0; i + 1 < expr.size(); i++) {
			Token token = expr.get(i);
			if (!token.isName() || !expr.get(i + 1).is('(')) {
				continue;
			}
			// a type modifier: '1.5'::numeric(10, 2), CAST(x AS varchar(10))
			if (i > 0 && (expr.get(i - 1).text().equals("::") || expr.get(i - 1).is("AS"))) {
				continue;
			}
			String function = token.identifier();
			if (!NON_VOLATILE_FUNCTIONS.contains(function)) {
				return function;
			}
		}
		return null;
	}

	/** The column of CHECK (col IS NOT NULL) or NOT NULL col starting at {@code i}, or null. */
	private static String notNullColumn(List<Token> a, int i) {
		if (a.get(i).is("CHECK") && i + 6 <= a.size() && a.get(i + 1).is('(') && a.get(i + 2).isName()
				&& a.get(i + 3).is("IS") && a.get(i + 4).is("NOT") && a.get(i + 5).is("NULL")
				&& i + 6 < a.size() && a.get(i + 6).is(')')) {
			return a.get(i + 2).identifier();
		}
		if (a.get(i).is("NOT") && i + 2 < a.size() && a.get(i + 1).is("NULL") && a.get(i + 2).isName()) {
			return a.get(i + 2).identifier();
		}
		return null;
	}

	/** The table after REFERENCES, as written, or null. */
	private static String referenced(List<Token> a) {
		for (int i = 0; i + 1 < a.size(); i++) {
			if (a.get(i).is("REFERENCES") && a.get(i + 1).isName()) {
				int end = i + 2;
				while (end + 1 < a.size() && a.get(end).is('.') && a.get(end + 1).isName()) {
					end += 2;
				}
				return text(a, i + 1, end);
			}
		}
		return null;
	}

	/** The lock the preflight table gives one ALTER TABLE action alone. */
	private static LockMode actionMode(Context ctx, String table, List<Token> action) {
		try {
			Classification c = StatementLockModes.classify("ALTER TABLE " + table + " " + text(action, 0,
					action.size()));
			if (c.mode() != null) {
				return c.mode();
			}
		}
		catch (IllegalArgumentException ex) {
			// the whole statement's answer below
		}
		return (ctx.classification != null && ctx.classification.mode() != null) ? ctx.classification.mode()
				: LockMode.ACCESS_EXCLUSIVE;
	}

	// ---- what the file creates

	private static void recordCreated(FileState state, List<Token> t) {
		if (!t.get(0).is("CREATE")) {
			return;
		}
		int i = 1;
		if (i + 1 < t.size() && t.get(i).is("OR") && t.get(i + 1).is("REPLACE")) {
			i += 2;
		}
		while (i < t.size() && (t.get(i).is("GLOBAL") || t.get(i).is("LOCAL") || t.get(i).is("TEMP")
				|| t.get(i).is("TEMPORARY") || t.get(i).is("UNLOGGED") || t.get(i).is("UNIQUE"))) {
			i++;
		}
		if (i < t.size() && t.get(i).is("MATERIALIZED")) {
			i++;
		}
		if (i >= t.size() || !(t.get(i).is("TABLE") || t.get(i).is("INDEX") || t.get(i).is("VIEW"))) {
			return;
		}
		boolean index = t.get(i).is("INDEX");
		i++;
		if (index && i < t.size() && t.get(i).is("CONCURRENTLY")) {
			i++;
		}
		if (i + 2 < t.size() && t.get(i).is("IF") && t.get(i + 1).is("NOT") && t.get(i + 2).is("EXISTS")) {
			i += 3;
		}
		if (i >= t.size() || !t.get(i).isName() || (index && t.get(i).is("ON"))) {
			return;
		}
		int start = i;
		i++;
		while (i + 1 < t.size() && t.get(i).is('.') && t.get(i + 1).isName()) {
			i += 2;
		}
		QualifiedName name = parseName(text(t, start, i));
		if (name != null) {
			state.created.add(name);
		}
	}

	// ---- helpers

	private static QualifiedName parseName(String relation) {
		try {
			return QualifiedName.parse(relation);
		}
		catch (IllegalArgumentException ex) {
			return null;
		}
	}

	/** The relation's name without its schema: the key of held locks and of validated constraints. */
	private static String key(String relation) {
		QualifiedName name = parseName(relation);
		return (name != null) ? name.name() : relation.toLowerCase(Locale.ROOT);
	}

	private static String text(List<Token> t, int from, int to) {
		StringBuilder out = new StringBuilder();
		for (int i = from; i < to; i++) {
			Token token = t.get(i);
			if (i > from && !token.is('.') && !t.get(i - 1).is('.')) {
				out.append(' ');
			}
			out.append(token.text());
		}
		return out.toString();
	}

	private static List<List<Token>> splitTopLevel(List<Token> tokens) {
		List<List<Token>> parts = new ArrayList<>();
		List<Token> current = new ArrayList<>();
		int depth = 0;
		for (Token token : tokens) {
			if (token.is('(') || token.is('[')) {
				depth++;
			}
			else if (token.is(')') || token.is(']')) {
				depth--;
			}
			if (depth == 0 && token.is(',')) {
				parts.add(current);
				current = new ArrayList<>();
				continue;
			}
			current.add(token);
		}
		parts.add(current);
		return parts;
	}

	private static boolean startsWith(List<Token> t, String... words) {
		if (t.size() < words.length) {
			return false;
		}
		for (int i = 0; i < words.length; i++) {
			if (!t.get(i).is(words[i])) {
				return false;
			}
		}
		return true;
	}

	private static boolean containsTopLevel(List<Token> t, String first, String second) {
		int depth = 0;
		for (int i = 0; i + 1 < t.size(); i++) {
			if (t.get(i).is('(')) {
				depth++;
			}
			else if (t.get(i).is(')')) {
				depth--;
			}
			else if (depth == 0 && t.get(i).is(first) && t.get(i + 1).is(second)) {
				return true;
			}
		}
		return false;
	}

	/** Whether {@code word} follows position {@code from} at the same parenthesis depth, before a ','. */
	private static boolean containsFrom(List<Token> t, int from, String word) {
		int depth = 0;
		for (int i = from; i < t.size(); i++) {
			if (t.get(i).is('(')) {
				depth++;
			}
			else if (t.get(i).is(')')) {
				depth--;
			}
			else if (depth == 0 && t.get(i).is(word)) {
				return true;
			}
		}
		return false;
	}

}

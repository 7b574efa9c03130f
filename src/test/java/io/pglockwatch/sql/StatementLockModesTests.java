package io.pglockwatch.sql;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.sql.StatementLockModes.Classification;
import io.pglockwatch.sql.StatementLockModes.RelationLock;
import io.pglockwatch.sql.StatementLockModes.Scope;
import io.pglockwatch.sql.StatementLockModes.UnclassifiableStatementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The classifier on its own; {@link StatementLockModesIntegrationTests} checks the modes on real servers. */
class StatementLockModesTests {

	private static final LockMode AE = LockMode.ACCESS_EXCLUSIVE;

	private static final LockMode SUE = LockMode.SHARE_UPDATE_EXCLUSIVE;

	private static final LockMode SRE = LockMode.SHARE_ROW_EXCLUSIVE;

	private static Classification classify(String sql) {
		return StatementLockModes.classify(sql);
	}

	/** The statement's mode on the relation it names first. */
	@ParameterizedTest(name = "{0} -> {1}")
	@CsvSource(delimiter = '|', textBlock = """
			ALTER TABLE users ADD COLUMN x int                                      | AccessExclusiveLock
			ALTER TABLE users ADD x int DEFAULT 0 NOT NULL                          | AccessExclusiveLock
			ALTER TABLE users DROP COLUMN x                                         | AccessExclusiveLock
			ALTER TABLE users ALTER COLUMN x TYPE bigint                            | AccessExclusiveLock
			ALTER TABLE users ALTER COLUMN x SET DEFAULT 0                          | AccessExclusiveLock
			ALTER TABLE users ALTER COLUMN x DROP DEFAULT                           | AccessExclusiveLock
			ALTER TABLE users ALTER COLUMN x SET NOT NULL                           | AccessExclusiveLock
			ALTER TABLE users ALTER COLUMN x DROP NOT NULL                          | AccessExclusiveLock
			ALTER TABLE users ALTER COLUMN x SET STATISTICS 1000                    | ShareUpdateExclusiveLock
			ALTER TABLE users ALTER COLUMN x SET (n_distinct = -1)                  | ShareUpdateExclusiveLock
			ALTER TABLE users RENAME TO people                                      | AccessExclusiveLock
			ALTER TABLE users RENAME COLUMN a TO b                                  | AccessExclusiveLock
			ALTER TABLE users ADD CONSTRAINT c CHECK (x > 0)                        | AccessExclusiveLock
			ALTER TABLE users ADD CONSTRAINT c CHECK (x > 0) NOT VALID              | AccessExclusiveLock
			ALTER TABLE users ADD CONSTRAINT c UNIQUE (x)                           | AccessExclusiveLock
			ALTER TABLE users ADD PRIMARY KEY (id)                                  | AccessExclusiveLock
			ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_x_idx       | AccessExclusiveLock
			ALTER TABLE users VALIDATE CONSTRAINT c                                 | ShareUpdateExclusiveLock
			ALTER TABLE users SET (fillfactor = 70)                                 | ShareUpdateExclusiveLock
			ALTER TABLE users SET (toast.autovacuum_enabled = off)                  | ShareUpdateExclusiveLock
			ALTER TABLE users RESET (fillfactor, parallel_workers)                  | ShareUpdateExclusiveLock
			ALTER TABLE users SET (fillfactor = 70, user_catalog_table = true)      | AccessExclusiveLock
			ALTER TABLE users CLUSTER ON users_pkey                                 | ShareUpdateExclusiveLock
			ALTER TABLE users SET WITHOUT CLUSTER                                   | ShareUpdateExclusiveLock
			ALTER TABLE users ENABLE TRIGGER t                                      | ShareRowExclusiveLock
			ALTER TABLE users DISABLE TRIGGER ALL                                   | ShareRowExclusiveLock
			ALTER TABLE users ENABLE ALWAYS TRIGGER t                               | ShareRowExclusiveLock
			ALTER TABLE users ENABLE ROW LEVEL SECURITY                             | AccessExclusiveLock
			ALTER TABLE users NO FORCE ROW LEVEL SECURITY                           | AccessExclusiveLock
			ALTER TABLE users DISABLE RULE r                                        | AccessExclusiveLock
			ALTER TABLE users SET TABLESPACE fast                                   | AccessExclusiveLock
			ALTER TABLE users SET LOGGED                                            | AccessExclusiveLock
			ALTER TABLE users SET SCHEMA archive                                    | AccessExclusiveLock
			ALTER TABLE users OWNER TO app                                          | AccessExclusiveLock
			ALTER TABLE users REPLICA IDENTITY FULL                                 | AccessExclusiveLock
			ALTER TABLE events ATTACH PARTITION events_2 DEFAULT                    | ShareUpdateExclusiveLock
			ALTER TABLE events DETACH PARTITION events_2                            | AccessExclusiveLock
			ALTER TABLE events DETACH PARTITION events_2 CONCURRENTLY               | ShareUpdateExclusiveLock
			ALTER INDEX users_x_idx RENAME TO users_y_idx                           | ShareUpdateExclusiveLock
			ALTER INDEX users_x_idx SET (fillfactor = 90)                           | ShareUpdateExclusiveLock
			ALTER INDEX users_x_idx SET TABLESPACE fast                             | AccessExclusiveLock
			CREATE INDEX users_x_idx ON users (x)                                   | ShareLock
			CREATE UNIQUE INDEX ON users USING btree (lower(name))                  | ShareLock
			CREATE INDEX CONCURRENTLY IF NOT EXISTS users_x_idx ON users (x)        | ShareUpdateExclusiveLock
			REINDEX TABLE users                                                     | ShareLock
			REINDEX INDEX users_x_idx                                               | AccessExclusiveLock
			REINDEX TABLE CONCURRENTLY users                                        | ShareUpdateExclusiveLock
			REINDEX (VERBOSE, CONCURRENTLY) INDEX users_x_idx                       | ShareUpdateExclusiveLock
			REINDEX (CONCURRENTLY false) TABLE users                                | ShareLock
			VACUUM users                                                            | ShareUpdateExclusiveLock
			VACUUM FULL users                                                       | AccessExclusiveLock
			VACUUM (FULL, VERBOSE) users                                            | AccessExclusiveLock
			VACUUM (FULL off) users                                                 | ShareUpdateExclusiveLock
			VACUUM FREEZE VERBOSE ANALYZE users (name)                              | ShareUpdateExclusiveLock
			ANALYZE users                                                           | ShareUpdateExclusiveLock
			ANALYSE VERBOSE users                                                   | ShareUpdateExclusiveLock
			CLUSTER users                                                           | AccessExclusiveLock
			CLUSTER VERBOSE users USING users_pkey                                  | AccessExclusiveLock
			TRUNCATE users                                                          | AccessExclusiveLock
			TRUNCATE TABLE ONLY users RESTART IDENTITY                              | AccessExclusiveLock
			DROP TABLE users                                                        | AccessExclusiveLock
			DROP INDEX users_x_idx                                                  | AccessExclusiveLock
			DROP INDEX CONCURRENTLY IF EXISTS users_x_idx                           | ShareUpdateExclusiveLock
			DROP MATERIALIZED VIEW mv                                               | AccessExclusiveLock
			REFRESH MATERIALIZED VIEW mv                                            | AccessExclusiveLock
			REFRESH MATERIALIZED VIEW CONCURRENTLY mv WITH DATA                     | ExclusiveLock
			CREATE TRIGGER t BEFORE INSERT OR UPDATE OF a, b ON users FOR EACH ROW EXECUTE FUNCTION f() | ShareRowExclusiveLock
			DROP TRIGGER IF EXISTS t ON users                                       | AccessExclusiveLock
			LOCK users                                                              | AccessExclusiveLock
			LOCK TABLE users IN ACCESS SHARE MODE                                   | AccessShareLock
			LOCK TABLE users IN ROW SHARE MODE NOWAIT                               | RowShareLock
			LOCK TABLE users IN ROW EXCLUSIVE MODE                                  | RowExclusiveLock
			LOCK TABLE users IN SHARE UPDATE EXCLUSIVE MODE                         | ShareUpdateExclusiveLock
			LOCK TABLE users IN SHARE MODE                                          | ShareLock
			LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE                            | ShareRowExclusiveLock
			LOCK TABLE users IN EXCLUSIVE MODE                                      | ExclusiveLock
			LOCK TABLE users IN ACCESS EXCLUSIVE MODE                               | AccessExclusiveLock
			COMMENT ON TABLE users IS 'people'                                      | ShareUpdateExclusiveLock
			COMMENT ON COLUMN users.name IS NULL                                    | ShareUpdateExclusiveLock
			COMMENT ON INDEX users_x_idx IS 'x'                                     | ShareUpdateExclusiveLock
			COMMENT ON CONSTRAINT c ON users IS 'x'                                 | AccessShareLock
			""")
	void modeOfTheFirstRelation(String sql, String mode) {
		Classification classification = classify(sql);
		assertThat(classification.relations().get(0).mode().pgName()).isEqualTo(mode);
		assertThat(classification.mode().ordinal()).isGreaterThanOrEqualTo(LockMode.of(mode).ordinal());
	}

	@Test
	void foreignKeyLocksBothTablesInShareRowExclusive() {
		Classification fk = classify(
				"ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID");
		assertThat(fk.relations()).containsExactly(new RelationLock("orders", SRE), new RelationLock("users", SRE));
		assertThat(fk.mode()).isEqualTo(SRE);
		assertThat(fk.statementKind()).isEqualTo("ALTER TABLE ADD CONSTRAINT FOREIGN KEY NOT VALID");
		assertThat(fk.concurrently()).isFalse();
	}

	@Test
	void addColumnWithReferencesLocksTheReferencedTable() {
		Classification column = classify("ALTER TABLE orders ADD COLUMN buyer_id int REFERENCES public.users");
		assertThat(column.relations()).containsExactly(new RelationLock("orders", AE),
				new RelationLock("public.users", SRE));
	}

	@Test
	void severalActionsTakeTheStrongestModeAndNameEveryAction() {
		Classification both = classify("ALTER TABLE users SET (fillfactor = 70), ADD COLUMN x int, ALTER x SET STATISTICS 5");
		assertThat(both.relations()).containsExactly(new RelationLock("users", AE));
		assertThat(both.mode()).isEqualTo(AE);
		assertThat(both.statementKind())
			.isEqualTo("ALTER TABLE SET (storage parameters), ADD COLUMN, ALTER COLUMN SET STATISTICS");
		Classification weak = classify("ALTER TABLE users SET (fillfactor = 70), ALTER COLUMN name SET STATISTICS 100");
		assertThat(weak.mode()).isEqualTo(SUE);
	}

	@Test
	void attachAndDetachNameBothTables() {
		assertThat(classify("ALTER TABLE events ATTACH PARTITION events_2 FOR VALUES FROM (1) TO (2)").relations())
			.containsExactly(new RelationLock("events", SUE), new RelationLock("events_2", AE));
		Classification detach = classify("ALTER TABLE events DETACH PARTITION events_2 CONCURRENTLY");
		assertThat(detach.relations()).containsExactly(new RelationLock("events", SUE), new RelationLock("events_2", SUE));
		assertThat(detach.concurrently()).isTrue();
		assertThat(detach.statementKind()).isEqualTo("ALTER TABLE DETACH PARTITION CONCURRENTLY");
	}

	@Test
	void indexStatementsReachTheTableAndTheIndexes() {
		assertThat(classify("REINDEX TABLE users").relations()).containsExactly(
				new RelationLock("users", LockMode.SHARE), new RelationLock("users", AE, Scope.INDEXES));
		assertThat(classify("REINDEX INDEX users_x_idx").relations()).containsExactly(
				new RelationLock("users_x_idx", AE), new RelationLock("users_x_idx", LockMode.SHARE, Scope.TABLE));
		assertThat(classify("DROP INDEX users_x_idx").relations()).containsExactly(
				new RelationLock("users_x_idx", AE), new RelationLock("users_x_idx", AE, Scope.TABLE));
		Classification concurrently = classify("DROP INDEX CONCURRENTLY users_x_idx;");
		assertThat(concurrently.relations()).extracting(RelationLock::mode).containsOnly(SUE);
		assertThat(concurrently.concurrently()).isTrue();
	}

	@Test
	void concurrentlyMeansSeveralTransactionsNotTheWord() {
		assertThat(classify("CREATE INDEX CONCURRENTLY ON users (x)").concurrently()).isTrue();
		assertThat(classify("REINDEX TABLE CONCURRENTLY users").concurrently()).isTrue();
		assertThat(classify("CREATE INDEX ON users (x)").concurrently()).isFalse();
		// one transaction, Exclusive: it waits for nobody older
		assertThat(classify("REFRESH MATERIALIZED VIEW CONCURRENTLY mv").concurrently()).isFalse();
	}

	@Test
	void foreignKeysFoundThroughTheCatalog() {
		assertThat(classify("DROP TABLE items").relations()).containsExactly(new RelationLock("items", AE),
				new RelationLock("items", AE, Scope.FOREIGN_KEY_TARGETS));
		assertThat(classify("DROP TABLE IF EXISTS orders, items CASCADE").relations()).contains(
				new RelationLock("orders", AE, Scope.FOREIGN_KEY_SOURCES),
				new RelationLock("items", AE, Scope.FOREIGN_KEY_SOURCES));
		assertThat(classify("ALTER TABLE items DROP CONSTRAINT IF EXISTS \"Items_FK\"").relations()).containsExactly(
				new RelationLock("items", AE), new RelationLock("items", AE, Scope.FOREIGN_KEY_TARGET_OF_CONSTRAINT, "Items_FK"));
		assertThat(classify("ALTER TABLE items VALIDATE CONSTRAINT items_fk").relations()).containsExactly(
				new RelationLock("items", SUE),
				new RelationLock("items", LockMode.ROW_SHARE, Scope.FOREIGN_KEY_TARGET_OF_CONSTRAINT, "items_fk"));
		assertThat(classify("ALTER TABLE items DROP COLUMN Order_Id CASCADE").relations()).containsExactly(
				new RelationLock("items", AE), new RelationLock("items", AE, Scope.FOREIGN_KEY_TARGETS_OF_COLUMN, "order_id"),
				new RelationLock("items", AE, Scope.FOREIGN_KEY_SOURCES_OF_COLUMN, "order_id"));
		assertThat(classify("TRUNCATE orders CASCADE").relations()).containsExactly(new RelationLock("orders", AE),
				new RelationLock("orders", AE, Scope.FOREIGN_KEY_SOURCES));
	}

	@Test
	void createTableLocksOnlyTheTablesItRefersTo() {
		Classification create = classify("""
				CREATE TABLE IF NOT EXISTS refs (
					id int PRIMARY KEY,
					user_id int REFERENCES users (id),
					name text CHECK (name LIKE 'a%'),
					LIKE templates INCLUDING ALL,
					FOREIGN KEY (id) REFERENCES app.orders
				) INHERITS (base)""");
		assertThat(create.relations()).containsExactly(new RelationLock("users", SRE),
				new RelationLock("templates", LockMode.ACCESS_SHARE), new RelationLock("app.orders", SRE),
				new RelationLock("base", SUE));
		assertThat(classify("CREATE TABLE events_4 PARTITION OF events FOR VALUES FROM (1) TO (2)").relations())
			.containsExactly(new RelationLock("events", AE));
		Classification alone = classify("CREATE TABLE fresh (id int)");
		assertThat(alone.relations()).isEmpty();
		assertThat(alone.mode()).isNull();
	}

	@Test
	void namesAreKeptAsWrittenAndParsedLikePostgres() {
		Classification quoted = classify("ALTER TABLE IF EXISTS ONLY app.\"My Table\" * ADD COLUMN \"Other\" text");
		assertThat(quoted.relations()).containsExactly(new RelationLock("app.\"My Table\"", AE));
		assertThat(quoted.relations().get(0).name()).isEqualTo(new QualifiedName("app", "My Table"));
		assertThat(classify("alter table USERS add column q int").relations().get(0).name())
			.isEqualTo(new QualifiedName(null, "users"));
		assertThat(classify("TRUNCATE a, \"B\".c").relations()).extracting(RelationLock::name)
			.containsExactly(new QualifiedName(null, "a"), new QualifiedName("B", "c"));
		assertThat(classify("COMMENT ON COLUMN app.users.name IS 'x'").relations())
			.containsExactly(new RelationLock("app.users", SUE));
	}

	@Test
	void commentsSemicolonsAndCaseDoNotMatter() {
		Classification classification = classify("""
				-- add the column the new release reads
				/* reviewed /* nested */ by dba */ Alter   TABLE users
				  ADD column note text DEFAULT 'it''s; fine' ;;
				""");
		assertThat(classification.relations()).containsExactly(new RelationLock("users", AE));
		assertThat(classification.statementKind()).isEqualTo("ALTER TABLE ADD COLUMN");
		assertThat(classify("lock users in share mode;").mode()).isEqualTo(LockMode.SHARE);
		assertThat(classify("ALTER TABLE users ALTER COLUMN note SET DEFAULT $$a;b$$").mode()).isEqualTo(AE);
	}

	@Test
	void statementKindNamesTheCommand() {
		assertThat(classify("CREATE INDEX CONCURRENTLY ON users (x)").statementKind())
			.isEqualTo("CREATE INDEX CONCURRENTLY");
		assertThat(classify("VACUUM (FULL) users").statementKind()).isEqualTo("VACUUM FULL");
		assertThat(classify("ALTER TABLE users ALTER COLUMN x TYPE text").statementKind())
			.isEqualTo("ALTER TABLE ALTER COLUMN TYPE");
		assertThat(classify("LOCK users").statementKind()).isEqualTo("LOCK TABLE");
	}

	@ParameterizedTest
	@ValueSource(strings = { "GRANT SELECT ON t TO x", "SELECT * FROM users", "INSERT INTO users VALUES (1)",
			"UPDATE users SET name = 'x'", "BEGIN", "CREATE VIEW v AS SELECT 1", "CREATE TABLE t AS SELECT * FROM users",
			"CREATE TEMP TABLE t (id int)", "ALTER SEQUENCE s RESTART", "ALTER TABLE users FROB x",
			"ALTER TABLE users SET (no_such_parameter = 1)", "ALTER TABLE users ALTER COLUMN x FROB",
			"ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b", "ALTER TABLE users", "VACUUM", "VACUUM (VERBOSE)",
			"ANALYZE", "CLUSTER", "REINDEX DATABASE app", "REINDEX SCHEMA public", "DROP SCHEMA s",
			"DROP INDEX CONCURRENTLY a, b", "ALTER TABLE users ADD COLUMN x int; DROP TABLE users", "", "   ;  ",
			"-- nothing", "ALTER TABLE 'users' ADD COLUMN x int", "ALTER TABLE a.b.c.d ADD COLUMN x int",
			"ALTER TABLE users ADD COLUMN x text DEFAULT 'unterminated", "ALTER TABLE \"users ADD COLUMN x int",
			"LOCK users IN SHARED MODE", "ALTER TABLE users RENAME TO a, ADD COLUMN x int",
			"ALTER TABLE events DETACH PARTITION p FINALIZE", "COMMENT ON SCHEMA s IS 'x'",
			"ALTER TABLE users SET SCHEMA a, ADD COLUMN x int" })
	void unknownStatementsAreRefusedNeverGuessed(String sql) {
		assertThatThrownBy(() -> classify(sql)).isInstanceOf(UnclassifiableStatementException.class)
			.hasMessageStartingWith("cannot classify '")
			.hasMessageEndingWith("; pass relation= and mode= instead");
	}

	@Test
	void refusalSaysWhy() {
		assertThatThrownBy(() -> classify("GRANT SELECT ON t TO x")).hasMessage(
				"cannot classify 'GRANT SELECT ON t TO x': not a DDL statement pg-lockwatch knows; pass relation= and mode= instead");
		assertThatThrownBy(() -> classify("ALTER TABLE users ADD COLUMN x int; DROP TABLE users"))
			.hasMessageContaining("more than one statement");
		assertThatThrownBy(() -> classify("VACUUM")).hasMessageContaining("every table of the database");
		assertThatThrownBy(() -> classify("ALTER TABLE users SET (no_such_parameter = 1)"))
			.hasMessageContaining("storage parameter 'no_such_parameter'");
		assertThatThrownBy(() -> classify("ALTER TABLE users FROB x"))
			.hasMessageContaining("ALTER TABLE action 'FROB' is not one pg-lockwatch knows");
		assertThatThrownBy(() -> classify("ALTER TABLE users ALTER COLUMN x SET DEFAULT 'oops"))
			.hasMessageContaining("unterminated string constant");
	}

	@Test
	void longListsAreReadWithoutExhaustingTheStack() {
		StringBuilder sql = new StringBuilder("LOCK TABLE t0");
		for (int i = 1; i < 20_000; i++) {
			sql.append(", t").append(i);
		}
		assertThat(classify(sql.toString()).relations()).hasSize(20_000);
	}

	@Test
	void longStatementsAreShortenedInTheMessage() {
		String sql = "GRANT SELECT ON " + "t, ".repeat(200) + "u TO x";
		assertThatThrownBy(() -> classify(sql)).hasMessageContaining("\u2026': not a DDL statement");
	}

}

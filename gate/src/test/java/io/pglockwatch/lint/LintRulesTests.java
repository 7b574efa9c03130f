package io.pglockwatch.lint;

import java.util.List;

import io.pglockwatch.lock.LockMode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Each rule on its own, with what a finding says; the corpus (LintCorpusTests) has the longer cases. */
class LintRulesTests {

	private static final String TIMEOUT = "SET lock_timeout = '2s';\n";

	private static List<String> rules(String sql) {
		return Lint.lint("V1__test.sql", sql).stream().map(f -> f.ruleId() + "@" + f.line()).toList();
	}

	private static Finding only(String sql) {
		List<Finding> findings = Lint.lint("V1__test.sql", sql);
		assertThat(findings).hasSize(1);
		return findings.get(0);
	}

	@Test
	void createIndexWithoutConcurrently() {
		Finding f = only(TIMEOUT + "CREATE INDEX i ON orders (a);");
		assertThat(f.rule()).isEqualTo(Rule.INDEX_WITHOUT_CONCURRENTLY);
		assertThat(f.file()).isEqualTo("V1__test.sql");
		assertThat(f.line()).isEqualTo(2);
		assertThat(f.column()).isEqualTo(1);
		assertThat(f.statement()).isEqualTo("CREATE INDEX i ON orders (a)");
		assertThat(f.lockMode()).isEqualTo(LockMode.SHARE);
		assertThat(f.relation()).isEqualTo("orders");
		assertThat(f.blocks()).isEqualTo("writes");
		assertThat(f.safeAlternative()).contains("CREATE INDEX CONCURRENTLY");
		assertThat(f.severity()).isEqualTo(Severity.WARNING);
	}

	@Test
	void dropIndexAndReindexWithoutConcurrently() {
		Finding drop = only(TIMEOUT + "DROP INDEX i;");
		assertThat(drop.lockMode()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
		assertThat(drop.blocks()).isEqualTo("reads and writes");
		assertThat(rules(TIMEOUT + "REINDEX INDEX i;")).containsExactly("index-without-concurrently@2");
		assertThat(rules("REINDEX TABLE CONCURRENTLY t;")).containsExactly("concurrently-in-transaction@1");
	}

	@Test
	void indexOnATableCreatedInTheSameFileIsFine() {
		assertThat(rules("CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\nDROP INDEX i;")).isEmpty();
		assertThat(rules("CREATE TABLE app.t (a int);\nCREATE INDEX i ON t (a);")).isEmpty();
		// another schema's t is not the new one... but unqualified names match either way
		assertThat(rules(TIMEOUT + "CREATE TABLE app.t (a int);\nCREATE INDEX i ON other.t (a);"))
			.containsExactly("index-without-concurrently@3");
	}

	@Test
	void concurrentlyOutsideATransactionIsFine() {
		assertThat(rules("CREATE INDEX CONCURRENTLY i ON t (a);")).isEmpty();
		assertThat(rules("DROP INDEX CONCURRENTLY i;")).isEmpty();
	}

	@Test
	void concurrentlyInsideATransactionFails() {
		Finding f = only("BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;");
		assertThat(f.rule()).isEqualTo(Rule.CONCURRENTLY_IN_TRANSACTION);
		assertThat(f.severity()).isEqualTo(Severity.ERROR);
		assertThat(f.message()).contains("BEGIN on line 1");
		assertThat(rules("ALTER TABLE p DETACH PARTITION c CONCURRENTLY;")).containsExactly(
				"concurrently-in-transaction@1");
	}

	@Test
	void tableRewrites() {
		assertThat(rules(TIMEOUT + "ALTER TABLE t ALTER COLUMN c TYPE bigint;")).containsExactly("table-rewrite@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE t ALTER c SET DATA TYPE text USING c::text;"))
			.containsExactly("table-rewrite@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE t SET UNLOGGED;")).containsExactly("table-rewrite@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a + 1) STORED;"))
			.containsExactly("table-rewrite@2");
		// PostgreSQL 18's virtual generated column is computed on read
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a + 1) VIRTUAL;")).isEmpty();
	}

	@Test
	void addColumnDefaults() {
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN c float8 DEFAULT random();"))
			.containsExactly("add-column-volatile-default@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();"))
			.containsExactly("add-column-volatile-default@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;")).isEmpty();
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN c timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP;"))
			.isEmpty();
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN c numeric(5, 2) DEFAULT '1.5'::numeric(5, 2);"))
			.isEmpty();
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD c serial;")).containsExactly("add-column-volatile-default@2");
	}

	@Test
	void addColumnNotNullWithoutDefault() {
		Finding f = only(TIMEOUT + "ALTER TABLE t ADD COLUMN c int NOT NULL;");
		assertThat(f.rule()).isEqualTo(Rule.ADD_COLUMN_NOT_NULL_WITHOUT_DEFAULT);
		assertThat(f.message()).contains("fails");
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD COLUMN c int CHECK (c IS NOT NULL);"))
			.containsExactly("constraint-without-not-valid@2");
	}

	@Test
	void setNotNullNeedsAValidatedCheckFirst() {
		assertThat(rules(TIMEOUT + "ALTER TABLE t ALTER COLUMN c SET NOT NULL;")).containsExactly("set-not-null@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID;\n"
				+ "ALTER TABLE t VALIDATE CONSTRAINT c_nn;\nALTER TABLE t ALTER COLUMN c SET NOT NULL;")).isEmpty();
		// not validated: the scan still happens
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD CONSTRAINT c_nn CHECK (c IS NOT NULL) NOT VALID;\n"
				+ "ALTER TABLE t ALTER COLUMN c SET NOT NULL;")).containsExactly("set-not-null@3");
		// a check on another column does not help
		assertThat(rules(TIMEOUT + "ALTER TABLE t ADD CONSTRAINT d_nn CHECK (d IS NOT NULL) NOT VALID;\n"
				+ "ALTER TABLE t VALIDATE CONSTRAINT d_nn;\nALTER TABLE t ALTER COLUMN c SET NOT NULL;"))
			.containsExactly("set-not-null@4");
	}

	@Test
	void constraintsWithoutNotValid() {
		Finding fk = only(TIMEOUT + "ALTER TABLE a ADD CONSTRAINT fk FOREIGN KEY (b_id) REFERENCES b (id);");
		assertThat(fk.rule()).isEqualTo(Rule.CONSTRAINT_WITHOUT_NOT_VALID);
		assertThat(fk.lockMode()).isEqualTo(LockMode.SHARE_ROW_EXCLUSIVE);
		assertThat(fk.message()).contains("on b");
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD CONSTRAINT fk FOREIGN KEY (b_id) REFERENCES b (id) NOT VALID;"))
			.isEmpty();
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD CHECK (x > 0);")).containsExactly("constraint-without-not-valid@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD CONSTRAINT x_pos CHECK (x > 0) NOT VALID;")).isEmpty();
	}

	@Test
	void uniqueAndPrimaryKeyNeedAnExistingIndex() {
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD UNIQUE (x);")).containsExactly("unique-without-index@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD CONSTRAINT a_pk PRIMARY KEY (id);"))
			.containsExactly("unique-without-index@2");
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD CONSTRAINT a_pk PRIMARY KEY USING INDEX a_id_idx;")).isEmpty();
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD COLUMN code text UNIQUE;"))
			.containsExactly("unique-without-index@2");
	}

	@Test
	void severalStrongLocksInOneTransaction() {
		Finding f = only(TIMEOUT + "LOCK TABLE a IN SHARE MODE;\nALTER TABLE b ADD COLUMN c int;");
		assertThat(f.rule()).isEqualTo(Rule.SEVERAL_STRONG_LOCKS);
		assertThat(f.line()).isEqualTo(3);
		assertThat(f.relation()).isEqualTo("b");
		assertThat(f.message()).contains("ShareLock on a (line 2)");
		// weaker locks (no write blocked) do not count
		assertThat(rules(TIMEOUT + "ALTER TABLE a VALIDATE CONSTRAINT k;\nALTER TABLE b ADD COLUMN c int;")).isEmpty();
		// a COMMIT between them ends the first transaction
		assertThat(rules(TIMEOUT + "ALTER TABLE a ADD COLUMN c int;\nCOMMIT;\nALTER TABLE b ADD COLUMN c int;"))
			.isEmpty();
	}

	@Test
	void vacuumFullAndCluster() {
		assertThat(rules(TIMEOUT + "VACUUM (FULL, ANALYZE) t;")).containsExactly("vacuum-full-or-cluster@2");
		assertThat(rules(TIMEOUT + "CLUSTER t;")).containsExactly("vacuum-full-or-cluster@2");
		assertThat(rules("VACUUM t;")).isEmpty();
	}

	@Test
	void strongLockWithoutLockTimeout() {
		Finding f = only("ALTER TABLE t ADD COLUMN c int;");
		assertThat(f.rule()).isEqualTo(Rule.STRONG_LOCK_WITHOUT_LOCK_TIMEOUT);
		assertThat(f.blocks()).isEqualTo("reads and writes");
		assertThat(rules("SET SESSION lock_timeout TO '1s';\nALTER TABLE t ADD COLUMN c int;")).isEmpty();
		assertThat(rules("SELECT set_config('lock_timeout', '1s', false);\nALTER TABLE t ADD COLUMN c int;")).isEmpty();
		assertThat(rules("SET lock_timeout = '1s';\nRESET lock_timeout;\nALTER TABLE t ADD COLUMN c int;"))
			.containsExactly("strong-lock-without-lock-timeout@3");
		assertThat(rules("SET lock_timeout = DEFAULT;\nALTER TABLE t ADD COLUMN c int;"))
			.containsExactly("strong-lock-without-lock-timeout@2");
		// SET LOCAL ends with its transaction
		assertThat(rules("SET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n"
				+ "ALTER TABLE u ADD COLUMN c int;")).containsExactly("strong-lock-without-lock-timeout@4");
		// a weak lock (CONCURRENTLY) needs none; nor does a new table
		assertThat(rules("CREATE INDEX CONCURRENTLY i ON t (a);")).isEmpty();
		assertThat(rules("CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN c int;")).isEmpty();
	}

	@Test
	void theGateSetsTheLockTimeout() {
		Lint.Options gate = Lint.Options.defaults().withGateManaged(true);
		assertThat(Lint.lint(gate, "V1__x.sql", "ALTER TABLE t ADD COLUMN c int;")).isEmpty();
		assertThat(Lint.lint(gate, "V1__x.sql", "CREATE INDEX i ON t (a);")).extracting(Finding::ruleId)
			.containsExactly("index-without-concurrently");
	}

	@Test
	void allowCommentsAcceptAFinding() {
		assertThat(rules(TIMEOUT + "-- pglockwatch:allow index-without-concurrently tiny table\n"
				+ "CREATE INDEX i ON t (a);")).isEmpty();
		assertThat(rules(TIMEOUT + "/* pglockwatch:allow index-without-concurrently: tiny table */\n"
				+ "CREATE INDEX i ON t (a);")).isEmpty();
		assertThat(rules("CREATE INDEX i ON t (a); -- pglockwatch:allow index-without-concurrently,"
				+ "strong-lock-without-lock-timeout tiny")).isEmpty();
		// only the named rule, only for the next statement
		assertThat(rules("-- pglockwatch:allow index-without-concurrently\nCREATE INDEX i ON t (a);\n"
				+ "CREATE INDEX j ON t (b);"))
			.containsExactly("strong-lock-without-lock-timeout@2", "index-without-concurrently@3");
	}

	@Test
	void statementsAreSplitWithTheirLines() {
		List<SqlScript.Statement> statements = SqlScript.parse("""
				-- a; comment
				SELECT 'a;b', $$ c; d $$, $x$ $$; $x$, E'\\';', "q;";
				/* x; /* nested; */ y; */ SELECT 1;

				  CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
				SELECT 2""");
		assertThat(statements).extracting(SqlScript.Statement::line).containsExactly(2, 3, 5, 6);
		assertThat(statements.get(2).column()).isEqualTo(3);
		assertThat(statements.get(1).text()).isEqualTo("SELECT 1");
		assertThat(statements.get(2).text()).endsWith("END");
	}

	@Test
	void statementsOfAnAllowCommentCarryItsReason() {
		List<SqlScript.Statement> statements = SqlScript.parse(
				"-- pglockwatch:allow set-not-null, table-rewrite the table has 10 rows\nALTER TABLE t DROP c;");
		assertThat(statements.get(0).allowed()).containsEntry("set-not-null", "the table has 10 rows")
			.containsEntry("table-rewrite", "the table has 10 rows");
	}

	@Test
	void anUnterminatedStringIsAnError() {
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> Lint.lint("V1__x.sql", "SELECT 'abc;\n"))
			.isInstanceOf(Lint.LintException.class)
			.hasMessageContaining("V1__x.sql:1")
			.hasMessageContaining("unterminated string");
	}

}

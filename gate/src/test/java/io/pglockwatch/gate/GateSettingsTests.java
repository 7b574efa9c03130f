package io.pglockwatch.gate;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** The settings' defaults and rules, the backoff, and reading a migration's statements. */
class GateSettingsTests {

	@Test
	void defaults() {
		GateSettings settings = GateSettings.defaults();
		assertThat(settings.lockTimeout()).isEqualTo(Duration.ofSeconds(2));
		assertThat(settings.statementTimeout()).isZero();
		assertThat(settings.maxVictimWait()).isEqualTo(Duration.ofMillis(200));
		assertThat(settings.backoffInitial()).isEqualTo(Duration.ofMillis(500));
		assertThat(settings.backoffMax()).isEqualTo(Duration.ofSeconds(30));
		assertThat(settings.backoffMultiplier()).isEqualTo(2);
		assertThat(settings.maxAttempts()).isEqualTo(10);
		assertThat(settings.deadline()).isEqualTo(Duration.ofMinutes(15));
		assertThat(settings.preCheck()).isTrue();
		assertThat(settings.hasMonitor()).isFalse();
	}

	@Test
	void everyRefusedValueIsNamed() {
		assertThatIllegalArgumentException().isThrownBy(() -> GateSettings.builder().lockTimeout(Duration.ZERO)
				.maxAttempts(0).backoffInitial(Duration.ofMinutes(1)).backoffMax(Duration.ofSeconds(30))
				.backoffMultiplier(0.5).maxVictimWait(Duration.ofMillis(-1)).statementTimeout(Duration.ofSeconds(-1))
				.deadline(Duration.ZERO).build())
				.withMessageContaining("pglockwatch.gate.lock-timeout must be > 0")
				.withMessageContaining("pglockwatch.gate.max-attempts must be >= 1")
				.withMessageContaining("pglockwatch.gate.backoff.initial (60000ms) must be <= pglockwatch.gate.backoff.max")
				.withMessageContaining("pglockwatch.gate.backoff.multiplier must be a number >= 1")
				.withMessageContaining("pglockwatch.gate.max-victim-wait must be > 0")
				.withMessageContaining("pglockwatch.gate.statement-timeout must be >= 0")
				.withMessageContaining("pglockwatch.gate.deadline must be > 0");
		assertThatIllegalArgumentException().isThrownBy(() -> GateSettings.builder().monitorUrl("ftp://x").build())
				.withMessageContaining("pglockwatch.gate.monitor.url must be an http or https URL")
				.withMessageContaining("pglockwatch.gate.monitor.target must name");
	}

	@Test
	void backoffCeilingGrowsByTheMultiplierUpToMax() {
		GateSettings settings = GateSettings.defaults();
		assertThat(settings.backoffCeiling(1)).isEqualTo(Duration.ofMillis(500));
		assertThat(settings.backoffCeiling(2)).isEqualTo(Duration.ofSeconds(1));
		assertThat(settings.backoffCeiling(4)).isEqualTo(Duration.ofSeconds(4));
		assertThat(settings.backoffCeiling(9)).isEqualTo(Duration.ofSeconds(30));
	}

	@Test
	void statementsAreSplitOutsideStringsCommentsAndDollarQuotes() {
		List<String> statements = MigrationStatements.split("""
				-- a comment; with a semicolon
				ALTER TABLE users ADD COLUMN note text DEFAULT 'a;b';
				CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
				/* block; comment */
				CREATE INDEX CONCURRENTLY IF NOT EXISTS "Orders_Idx" ON orders (status);
				create index concurrently users_name_idx on users (name)
				""");
		assertThat(statements).hasSize(4);
		assertThat(statements.get(0)).endsWith("DEFAULT 'a;b'");
		assertThat(statements.get(1)).endsWith("LANGUAGE sql");
		assertThat(MigrationStatements.concurrentIndexNames(statements)).containsExactly("Orders_Idx", "users_name_idx");
	}

}

package io.pglockwatch.lint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.pglockwatch.lock.LockMode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lint over pg-lockwatch's own Flyway migrations (PostgreSQL). They are left as they are: they have been applied
 * to existing stores, and a changed file (even a comment) changes its Flyway checksum. Every finding is expected
 * and decided here:
 * <ul>
 * <li>V2, V4, V7 and V8 take a lock on a table of an earlier migration without a lock_timeout: true, and the
 * reason the service runs its migrations through the gate (which sets one); with {@code --gate} they go.</li>
 * <li>V7's SET NOT NULL on alert_outbox.event_id scans the table under AccessExclusiveLock: true, but the same
 * transaction already holds that lock since its ADD COLUMN (line 5) and has just rewritten every row with the
 * UPDATE; the outbox is small (sent events are its only rows). Accepted as it is.</li>
 * </ul>
 * New tables with their indexes (V1, V3, V5, V6, the rest of V7 and V8) are not findings.
 */
class ServiceMigrationsLintTests {

	private static final Path MIGRATIONS = Path.of("../src/main/resources/db/migration/postgresql");

	@Test
	void theServicesMigrationsHaveExactlyTheExpectedFindings() {
		assertThat(Files.isDirectory(MIGRATIONS)).as(MIGRATIONS.toAbsolutePath().toString()).isTrue();
		List<Finding> findings = Lint.check(MIGRATIONS);
		assertThat(findings).extracting(f -> Path.of(f.file()).getFileName() + ":" + f.line() + " " + f.ruleId()
				+ " " + f.lockMode().pgName() + " on " + f.relation())
			.containsExactly(
					"V2__alert_outbox.sql:3 strong-lock-without-lock-timeout ShareRowExclusiveLock on incident",
					"V4__guard_action_mode.sql:3 strong-lock-without-lock-timeout AccessExclusiveLock on guard_action",
					"V7__cluster_claims.sql:5 strong-lock-without-lock-timeout AccessExclusiveLock on alert_outbox",
					"V7__cluster_claims.sql:9 set-not-null AccessExclusiveLock on alert_outbox",
					"V8__cluster_fleet.sql:4 strong-lock-without-lock-timeout AccessExclusiveLock on cluster_lease");
		assertThat(findings.get(1).blocks()).isEqualTo("reads and writes");
		assertThat(findings.get(0).lockMode()).isEqualTo(LockMode.SHARE_ROW_EXCLUSIVE);
	}

	@Test
	void runByTheGateOnlyTheSetNotNullRemains() {
		List<Finding> findings = Lint.check(Lint.Options.defaults().withGateManaged(true), MIGRATIONS);
		assertThat(findings).extracting(f -> Path.of(f.file()).getFileName() + ":" + f.line() + " " + f.ruleId())
			.containsExactly("V7__cluster_claims.sql:9 set-not-null");
	}

}

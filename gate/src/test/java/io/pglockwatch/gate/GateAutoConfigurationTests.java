package io.pglockwatch.gate;

import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With Spring Boot: {@code pglockwatch.gate.enabled=true} puts Boot's own Flyway through the gate (the migration's
 * session carries the gate's application_name and lock_timeout), and without it Boot's Flyway runs as before.
 */
class GateAutoConfigurationTests {

	private static ApplicationContextRunner runner(GateDatabase db, String scenario) {
		return new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
						FlywayAutoConfiguration.class, GateAutoConfiguration.class))
				.withPropertyValues("spring.datasource.url=" + db.server.jdbcUrl(db.name),
						"spring.datasource.username=" + db.server.superuser(),
						"spring.datasource.password=" + db.server.password(),
						"spring.flyway.locations=classpath:gate-migrations/" + scenario,
						"spring.flyway.table=history_" + scenario.replace('-', '_'),
						"spring.flyway.baseline-on-migrate=true", "spring.flyway.baseline-version=0");
	}

	@Test
	void enabledTheMigrationRunsThroughTheGate() {
		GateDatabase db = new GateDatabase("gate_spring_on");
		runner(db, "spring-on").withPropertyValues("pglockwatch.gate.enabled=true", "pglockwatch.gate.lock-timeout=3s")
				.run(context -> {
					assertThat(context).hasNotFailed().hasSingleBean(Gate.class).hasSingleBean(FlywayMigrationStrategy.class);
					assertThat(context.getBean(Gate.class).settings().lockTimeout()).hasSeconds(3);
					Map<String, Object> seen = new JdbcTemplate(context.getBean(DataSource.class)).queryForMap("SELECT * FROM gate_seen");
					System.out.println("seen during the migration with the gate: " + seen);
					assertThat(seen).containsEntry("application_name", "pglockwatch-gate V1 attempt 1/10")
							.containsEntry("lock_timeout", "3s");
				});
	}

	@Test
	void disabledBootsFlywayRunsAsBefore() {
		GateDatabase db = new GateDatabase("gate_spring_off");
		runner(db, "spring-off").run(context -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(Gate.class).doesNotHaveBean(FlywayMigrationStrategy.class);
			Map<String, Object> seen = new JdbcTemplate(context.getBean(DataSource.class)).queryForMap("SELECT * FROM gate_seen");
			System.out.println("seen during the migration without the gate: " + seen);
			assertThat(seen.get("application_name")).asString().doesNotContain("pglockwatch-gate");
			assertThat(seen).containsEntry("lock_timeout", "0");
		});
	}

	@Test
	void anInvalidSettingStopsStartupNamingTheProperty() {
		GateDatabase db = new GateDatabase("gate_spring_on");
		runner(db, "spring-on").withPropertyValues("pglockwatch.gate.enabled=true", "pglockwatch.gate.max-attempts=0")
				.run(context -> assertThat(context).hasFailed().getFailure()
						.rootCause().hasMessageContaining("pglockwatch.gate.max-attempts must be >= 1"));
	}

}

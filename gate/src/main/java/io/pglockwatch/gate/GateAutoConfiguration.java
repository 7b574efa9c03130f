package io.pglockwatch.gate;

import org.flywaydb.core.Flyway;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.flyway.autoconfigure.FlywayConfigurationCustomizer;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;
import org.springframework.context.annotation.Bean;

/**
 * With {@code pglockwatch.gate.enabled=true}, Spring Boot's Flyway runs through the gate: a
 * {@link FlywayConfigurationCustomizer} adds the gate's callback (next to any {@code Callback} beans, which Boot
 * sets before the customizers run) and a {@link FlywayMigrationStrategy} calls {@link Gate#migrate(Flyway)}. A
 * giving-up gate throws a {@code FlywayException}, which stops the application's startup.
 */
@AutoConfiguration(beforeName = "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration")
@ConditionalOnClass(name = { "org.flywaydb.core.Flyway",
		"org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy" })
@ConditionalOnProperty(prefix = "pglockwatch.gate", name = "enabled", havingValue = "true")
@EnableConfigurationProperties(GateProperties.class)
public class GateAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	Gate pglockwatchGate(GateProperties properties) {
		return new Gate(properties.toSettings());
	}

	@Bean
	FlywayConfigurationCustomizer pglockwatchGateFlywayCustomizer(Gate gate) {
		return gate::configure;
	}

	@Bean
	@ConditionalOnMissingBean
	FlywayMigrationStrategy pglockwatchGateMigrationStrategy(Gate gate) {
		return gate::migrate;
	}

}

package io.pglockwatch.testsupport;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.pglockwatch.PgLockwatchApplication;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * pg-lockwatch as the integration tests run it: one target, {@code lab}, on the default database of a test server,
 * polled every {@link #POLL} with a 1 s statement timeout.
 */
public final class LabService {

	/** How often the lab target is polled. */
	public static final Duration POLL = Duration.ofMillis(500);

	private LabService() {
	}

	/**
	 * The properties of the lab target (fixtures installed on its database first), in a map the caller may add to or
	 * override.
	 */
	public static Map<String, String> properties(PostgresServer server) {
		server.installFixtures(PostgresServer.DEFAULT_DATABASE);
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("pglockwatch.poll.interval", POLL.toMillis() + "ms");
		properties.put("pglockwatch.poll.statement-timeout", "1s");
		properties.put("pglockwatch.targets[0].name", "lab");
		properties.put("pglockwatch.targets[0].url", server.jdbcUrl(PostgresServer.DEFAULT_DATABASE));
		properties.put("pglockwatch.targets[0].username", server.superuser());
		properties.put("pglockwatch.targets[0].password", server.password());
		return properties;
	}

	/** Adds the properties to a test's {@code @DynamicPropertySource}. */
	public static void register(DynamicPropertyRegistry registry, Map<String, String> properties) {
		properties.forEach((name, value) -> registry.add(name, () -> value));
	}

	/**
	 * Starts the service without a web server. The properties go in as command-line arguments: as default properties
	 * they would lose to application.yaml.
	 */
	public static ConfigurableApplicationContext start(Map<String, String> properties) {
		Map<String, String> all = new LinkedHashMap<>(properties);
		all.put("spring.main.web-application-type", "none");
		String[] args = all.entrySet().stream().map((e) -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
		return new SpringApplicationBuilder(PgLockwatchApplication.class).run(args);
	}

}

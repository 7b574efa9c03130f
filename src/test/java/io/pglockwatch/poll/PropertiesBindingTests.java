package io.pglockwatch.poll;

import java.time.Duration;
import java.util.Map;

import io.pglockwatch.security.SecurityProperties;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.testsupport.AllProperties;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** Configuration binds strictly: every bad case stops startup with a message naming the property. */
class PropertiesBindingTests {

	private static final String[] ONE_TARGET = { "pglockwatch.targets[0].name=orders",
			"pglockwatch.targets[0].url=jdbc:postgresql://db.example:5432/app", "pglockwatch.security.login-required=false" };

	private static final String HASH = "$2a$10$VvsVOkRFFqahodcWaap4suIIMkGEXq/5KdgpJ7zSXLCLenIjMfSz6";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
		.withUserConfiguration(Config.class);

	@Import(AllProperties.class)
	static class Config {

	}

	private void assertFailure(String expected, String... properties) {
		this.runner.withPropertyValues(properties).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(messages(context.getStartupFailure())).contains(expected);
		});
	}

	private static String messages(Throwable failure) {
		StringBuilder all = new StringBuilder();
		for (Throwable t = failure; t != null; t = t.getCause()) {
			all.append(t.getMessage()).append('\n');
		}
		return all.toString();
	}

	@Test
	void defaultsFromTheSpec() {
		this.runner.withPropertyValues(ONE_TARGET).run((context) -> {
			assertThat(context).hasNotFailed();
			PollProperties poll = context.getBean(PollProperties.class);
			assertThat(poll.interval()).isEqualTo(Duration.ofSeconds(1));
			assertThat(poll.statementTimeout()).isEqualTo(Duration.ofSeconds(2));
			assertThat(poll.lockTimeout()).isEqualTo(Duration.ofMillis(100));
			assertThat(poll.deadline()).isEqualTo(2);
			TargetsProperties properties = context.getBean(TargetsProperties.class);
			assertThat(properties.queryText()).isEqualTo(QueryTextMode.REDACTED);
			assertThat(properties.targets()).singleElement().satisfies((t) -> assertThat(t.name()).isEqualTo("orders"));
		});
	}

	@Test
	void environmentVariablesBind() {
		this.runner.withInitializer((context) -> context.getEnvironment()
			.getPropertySources()
			.addFirst(new SystemEnvironmentPropertySource("systemEnvironment",
					Map.of("PGLOCKWATCH_TARGETS_0_NAME", "orders", "PGLOCKWATCH_TARGETS_0_URL",
							"jdbc:postgresql://db:5432/app", "PGLOCKWATCH_TARGETS_0_PASSWORD", "s3cret",
							"PGLOCKWATCH_POLL_INTERVAL", "2s", "PGLOCKWATCH_SECURITY_LOGIN_REQUIRED", "false"))))
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(PollProperties.class).interval()).isEqualTo(Duration.ofSeconds(2));
				TargetsProperties properties = context.getBean(TargetsProperties.class);
				assertThat(properties.targets().get(0).password()).isEqualTo("s3cret");
				assertThat(properties.targets().get(0).toString()).doesNotContain("s3cret");
			});
	}

	@Test
	void noTargetSaysHowToConfigureOne() {
		assertFailure("no target configured. Set pglockwatch.targets[0].name");
	}

	@Test
	void duplicateTargetNames() {
		assertFailure("target names must be unique", "pglockwatch.targets[0].name=orders",
				"pglockwatch.targets[0].url=jdbc:postgresql://a:5432/app", "pglockwatch.targets[1].name=orders",
				"pglockwatch.targets[1].url=jdbc:postgresql://b:5432/app");
	}

	@Test
	void badTargetName() {
		assertFailure("targets[0].name", "pglockwatch.targets[0].name=Orders DB",
				"pglockwatch.targets[0].url=jdbc:postgresql://a:5432/app");
	}

	@Test
	void badUrl() {
		assertFailure("targets[0].url", "pglockwatch.targets[0].name=orders",
				"pglockwatch.targets[0].url=postgres://a:5432/app");
	}

	@Test
	void urlWithoutDatabase() {
		assertFailure("targets[0].url", "pglockwatch.targets[0].name=orders",
				"pglockwatch.targets[0].url=jdbc:postgresql://a:5432/");
	}

	@Test
	void negativeDuration() {
		assertFailure("poll.interval", concat(ONE_TARGET, "pglockwatch.poll.interval=-1s"));
	}

	@Test
	void zeroLockTimeout() {
		assertFailure("poll.lockTimeout", concat(ONE_TARGET, "pglockwatch.poll.lock-timeout=0ms"));
	}

	@Test
	void unparsableDuration() {
		assertFailure("pglockwatch.poll.statement-timeout", concat(ONE_TARGET, "pglockwatch.poll.statement-timeout=soon"));
	}

	@Test
	void deadlineBelowOne() {
		assertFailure("poll.deadline", concat(ONE_TARGET, "pglockwatch.poll.deadline=0"));
	}

	@Test
	void statementTimeoutBeyondTheDeadline() {
		assertFailure("pglockwatch.poll.statement-timeout must not be longer than",
				concat(ONE_TARGET, "pglockwatch.poll.statement-timeout=5s"));
	}

	@Test
	void unknownKeyIsRejected() {
		assertFailure("pglockwatch.poll.intervall", concat(ONE_TARGET, "pglockwatch.poll.intervall=5s"));
	}

	@Test
	void unknownTopLevelKeyIsRejected() {
		assertFailure("pglockwatch.guard.moed", concat(ONE_TARGET, "pglockwatch.guard.moed=enforce"));
	}

	@Test
	void unknownSectionIsRejected() {
		assertFailure("Unknown property pglockwatch.gaurd.mode", concat(ONE_TARGET, "pglockwatch.gaurd.mode=enforce"));
		assertFailure("Unknown property pglockwatch.nosuch", concat(ONE_TARGET, "pglockwatch.nosuch=1"));
	}

	@Test
	void unknownSectionInTheEnvironmentIsIgnored() {
		this.runner.withInitializer((context) -> context.getEnvironment()
			.getPropertySources()
			.addFirst(new SystemEnvironmentPropertySource("systemEnvironment",
					Map.of("PGLOCKWATCH_TARGETS_0_NAME", "orders", "PGLOCKWATCH_TARGETS_0_URL",
							"jdbc:postgresql://db:5432/app", "PGLOCKWATCH_SECURITY_LOGIN_REQUIRED", "false",
							"PGLOCKWATCH_UNRELATED", "x"))))
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void badQueryTextMode() {
		assertFailure("pglockwatch.query-text", concat(ONE_TARGET, "pglockwatch.query-text=partial"));
	}

	private static String[] concat(String[] base, String... more) {
		String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
		System.arraycopy(more, 0, all, base.length, more.length);
		return all;
	}


	@Test
	void loginRequiredWithoutUsers() {
		assertFailure("pglockwatch.security.users must name at least one user", "pglockwatch.targets[0].name=orders",
				"pglockwatch.targets[0].url=jdbc:postgresql://db:5432/app");
	}

	@Test
	void aPlainPasswordInsteadOfABcryptHash() {
		assertFailure("security.users[0].passwordHash", concat(ONE_TARGET, "pglockwatch.security.login-required=true",
				"pglockwatch.security.users[0].name=sre", "pglockwatch.security.users[0].password-hash=hunter2",
				"pglockwatch.security.users[0].role=viewer"));
	}

	@Test
	void unknownRole() {
		assertFailure("pglockwatch.security.users[0].role", concat(ONE_TARGET, "pglockwatch.security.users[0].name=sre",
				"pglockwatch.security.users[0].password-hash=" + HASH, "pglockwatch.security.users[0].role=admin"));
	}

	@Test
	void aUserWithABcryptHashBinds() {
		this.runner.withPropertyValues(concat(ONE_TARGET, "pglockwatch.security.login-required=true",
				"pglockwatch.security.users[0].name=sre", "pglockwatch.security.users[0].password-hash=" + HASH,
				"pglockwatch.security.users[0].role=operator"))
			.run((context) -> {
				assertThat(context).hasNotFailed();
				SecurityProperties security = context.getBean(SecurityProperties.class);
				assertThat(security.users()).singleElement()
					.satisfies((u) -> assertThat(u.role()).isEqualTo(SecurityProperties.Role.OPERATOR));
				assertThat(security.users().get(0).toString()).doesNotContain(HASH);
			});
	}

}

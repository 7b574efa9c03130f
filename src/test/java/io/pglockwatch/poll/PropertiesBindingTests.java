package io.pglockwatch.poll;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import io.pglockwatch.cluster.ClusterProperties;
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
			assertThat(AllProperties.messages(context.getStartupFailure())).contains(expected);
		});
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
		assertFailure("poll.lock-timeout", concat(ONE_TARGET, "pglockwatch.poll.lock-timeout=0ms"));
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

	/** Every problem in one message: none hides another, each names its property, enums list their values. */
	@Test
	void everyProblemIsReportedAtOnce() {
		this.runner
			.withPropertyValues("pglockwatch.targets[0].name=orders",
					"pglockwatch.targets[0].url=jdbc:postgresql://db:notaport/app", "pglockwatch.targets[1].name=billing",
					"pglockwatch.targets[1].url=jdbc:postgresql://db:5432/app?sslmode=bogus",
					"pglockwatch.targets[2].name=stock", "pglockwatch.targets[2].url=jdbc:postgresql://db/app?colour=red",
					"pglockwatch.detection.ddl-queue.min-wait=fast", "pglockwatch.detection.resolve-after=-1s",
					"pglockwatch.guard.mode=enforced", "pglockwatch.query-text=partial",
					"pglockwatch.security.users[0].name=sre", "pglockwatch.security.users[0].password-hash=" + HASH,
					"pglockwatch.security.users[0].role=viewer", "pglockwatch.security.users[1].name=sre",
					"pglockwatch.security.users[1].password-hash=" + HASH, "pglockwatch.security.users[1].role=boss",
					"pglockwatch.gaurd.mode=enforce")
			.run((context) -> {
				assertThat(context).hasFailed();
				String message = AllProperties.messages(context.getStartupFailure());
				assertThat(message).contains("pglockwatch.targets[0].url: port 'notaport' must be a number from 1 to 65535",
						"pglockwatch.targets[1].url: parameter 'sslmode' must be one of disable, allow, prefer, require, verify-ca, verify-full",
						"pglockwatch.targets[2].url: parameter 'colour' is not a parameter of the PostgreSQL driver",
						"pglockwatch.detection.ddl-queue.min-wait: must be a duration",
						"pglockwatch.detection.resolve-after: must not be negative",
						"pglockwatch.guard.mode: must be one of off, dry-run, enforce",
						"pglockwatch.query-text: must be one of full, redacted, none",
						"pglockwatch.security.users[1].role: must be one of viewer, operator",
						"user names must be unique", "pglockwatch.gaurd.mode: not a known property")
					.doesNotContain("Bindable@", HASH);
			});
	}

	@Test
	void clusterDefaults() {
		this.runner.withPropertyValues(ONE_TARGET).run((context) -> {
			assertThat(context).hasNotFailed();
			ClusterProperties cluster = context.getBean(ClusterProperties.class);
			assertThat(cluster.instanceName()).isNotBlank();
			assertThat(cluster.lease()).isEqualTo(Duration.ofSeconds(10));
			assertThat(cluster.renewInterval()).isLessThan(cluster.lease().dividedBy(2));
			assertThat(cluster.shards()).isEqualTo(1);
		});
		this.runner.withPropertyValues(concat(ONE_TARGET, "pglockwatch.cluster.instance-name= pod-1 "))
			.run((context) -> assertThat(context.getBean(ClusterProperties.class).instanceName()).isEqualTo("pod-1"));
	}

	@Test
	void badClusterSettings() {
		assertFailure("pglockwatch.cluster.lease: must be at least 2s", concat(ONE_TARGET, "pglockwatch.cluster.lease=1s"));
		assertFailure("pglockwatch.cluster.shards: must be at most 1024",
				concat(ONE_TARGET, "pglockwatch.cluster.shards=1025"));
		assertFailure("pglockwatch.cluster.shards: must be at least 1", concat(ONE_TARGET, "pglockwatch.cluster.shards=0"));
		assertFailure("pglockwatch.cluster.instance-name: must be at most 200 characters",
				concat(ONE_TARGET, "pglockwatch.cluster.instance-name=" + "x".repeat(201)));
		assertFailure("pglockwatch.cluster.leases: not a known property",
				concat(ONE_TARGET, "pglockwatch.cluster.leases=10s"));
	}

	@Test
	void unknownSectionIsRejected() {
		assertFailure("pglockwatch.gaurd.mode: not a known property", concat(ONE_TARGET, "pglockwatch.gaurd.mode=enforce"));
		assertFailure("pglockwatch.nosuch: not a known property", concat(ONE_TARGET, "pglockwatch.nosuch=1"));
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
		String[] all = Arrays.copyOf(base, base.length + more.length);
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
		assertFailure("security.users[0].password-hash", concat(ONE_TARGET, "pglockwatch.security.login-required=true",
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

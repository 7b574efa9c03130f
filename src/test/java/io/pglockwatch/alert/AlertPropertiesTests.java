package io.pglockwatch.alert;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

import io.pglockwatch.testsupport.AllProperties;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.ConfigDataApplicationContextInitializer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.MapPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** pglockwatch.alerts.* binds strictly: a channel that could not work stops startup, naming the property. */
class AlertPropertiesTests {

	private static final String KEY = "R0UTINGk3ySECRETe1b9c04d2f7a6358";

	private static final String[] ONE_TARGET = { "pglockwatch.targets[0].name=orders",
			"pglockwatch.targets[0].url=jdbc:postgresql://db.example:5432/app" };

	// with the application and test configuration files, so settings every test context shares apply here too
	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withInitializer(new ConfigDataApplicationContextInitializer())
		.withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
		.withUserConfiguration(Config.class)
		.withPropertyValues(ONE_TARGET);

	@Import(AllProperties.class)
	static class Config {

	}

	private void assertFailure(String... propertiesThenExpected) {
		String[] properties = Arrays.copyOf(propertiesThenExpected, propertiesThenExpected.length - 1);
		String expected = propertiesThenExpected[propertiesThenExpected.length - 1];
		this.runner.withPropertyValues(properties).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(AllProperties.messages(context.getStartupFailure())).contains(expected).doesNotContain(KEY);
		});
	}

	/** The key exactly as given, spaces and line breaks kept, as a mounted Secret gives it. */
	private static ApplicationContextInitializer<ConfigurableApplicationContext> routingKey(String key) {
		return (context) -> context.getEnvironment()
			.getPropertySources()
			.addFirst(new MapPropertySource("secret", Map.of("pglockwatch.alerts.pagerduty.routing-key", key)));
	}

	@Test
	void aRoutingKeyWithoutADashboardUrlStopsStartup() {
		assertFailure("pglockwatch.alerts.pagerduty.routing-key=" + KEY, "pglockwatch.alerts.dashboard-url");
	}

	@Test
	void aRoutingKeyThatIsNotAnIntegrationKeyStopsStartupWithoutBeingShown() {
		// PagerDuty answers each of these with 400, which is never retried: the first page would be lost
		String[] keys = { KEY.substring(1), KEY + "9", "dummy-routing-key-00000000000000", KEY.substring(0, 31) + "!",
				" " + KEY.substring(1), "https://events.pagerduty.com/integration/" + KEY };
		for (String key : keys) {
			this.runner
				.withPropertyValues("pglockwatch.alerts.pagerduty.routing-key=" + key,
						"pglockwatch.alerts.dashboard-url=https://lockwatch.example.com")
				.run((context) -> {
					assertThat(context).hasFailed();
					assertThat(AllProperties.messages(context.getStartupFailure()))
						.contains("pglockwatch.alerts.pagerduty.routing-key: must be the Events API v2 integration key")
						.contains("exactly 32 letters and digits")
						.doesNotContain(key.strip())
						.doesNotContain(KEY.substring(1, 31));
				});
		}
	}

	@Test
	void aRoutingKeyWithATrailingLineBreakStopsStartup() {
		// what `echo key > file` and many Secrets hold; the Events API would refuse the key
		this.runner
			.withPropertyValues("pglockwatch.alerts.dashboard-url=https://lockwatch.example.com")
			.withInitializer(routingKey(KEY + "\n"))
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(AllProperties.messages(context.getStartupFailure())).contains("pglockwatch.alerts.pagerduty.routing-key")
					.doesNotContain(KEY);
			});
	}

	@Test
	void anEmptyOrBlankRoutingKeyLeavesPagerDutyOff() {
		for (String key : new String[] { "", "  " }) {
			this.runner.withInitializer(routingKey(key)).run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(AlertProperties.class).pagerduty().enabled()).isFalse();
			});
		}
	}

	@Test
	void aWebhookWithoutADashboardUrlStopsStartup() {
		assertFailure("pglockwatch.alerts.webhook.url=https://hooks.example.com/lockwatch",
				"pglockwatch.alerts.dashboard-url");
	}

	@Test
	void aBadPagerDutyUrlIsRejected() {
		for (String url : new String[] { "events.pagerduty.com/v2/enqueue", "ftp://events.pagerduty.com/v2/enqueue",
				"https://" }) {
			assertFailure("pglockwatch.alerts.pagerduty.routing-key=" + KEY,
					"pglockwatch.alerts.dashboard-url=https://lockwatch.example.com",
					"pglockwatch.alerts.pagerduty.url=" + url, "alerts.pagerduty.url");
		}
	}

	@Test
	void aBadWebhookOrDashboardUrlIsRejected() {
		assertFailure("pglockwatch.alerts.webhook.url=hooks.example.com/lockwatch",
				"pglockwatch.alerts.dashboard-url=https://lockwatch.example.com", "alerts.webhook.url");
		assertFailure("pglockwatch.alerts.webhook.url=https://hooks.example.com/lockwatch",
				"pglockwatch.alerts.dashboard-url=lockwatch.example.com", "alerts.dashboard-url");
	}

	@Test
	void deliverySettingsOutOfRangeAreRejected() {
		assertFailure("pglockwatch.alerts.delivery.request-timeout=50ms", "alerts.delivery.request-timeout");
		assertFailure("pglockwatch.alerts.delivery.initial-backoff=0ms", "alerts.delivery.initial-backoff");
		assertFailure("pglockwatch.alerts.delivery.max-events-per-minute=0", "alerts.delivery.max-events-per-minute");
		assertFailure("pglockwatch.alerts.pagerduty.routnig-key=" + KEY, "pglockwatch.alerts.pagerduty.routnig-key");
	}

	@Test
	void alertsAreOffByDefaultAndNeedNoDashboard() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			AlertProperties alerts = context.getBean(AlertProperties.class);
			assertThat(alerts.pagerduty().enabled()).isFalse();
			assertThat(alerts.webhook().enabled()).isFalse();
			assertThat(alerts.pagerduty().url()).isEqualTo("https://events.pagerduty.com/v2/enqueue");
			assertThat(alerts.delivery().requestTimeout()).isEqualTo(Duration.ofSeconds(10));
			assertThat(alerts.delivery().initialBackoff()).isEqualTo(Duration.ofSeconds(1));
			assertThat(alerts.delivery().maxBackoff()).isEqualTo(Duration.ofMinutes(5));
			assertThat(alerts.delivery().rateLimitedBackoff()).isEqualTo(Duration.ofSeconds(30));
			assertThat(alerts.delivery().maxEventsPerMinute()).isEqualTo(120);
		});
	}

	@Test
	void aConfiguredChannelBindsAndTheKeyIsNotShown() {
		this.runner
			.withPropertyValues("pglockwatch.alerts.pagerduty.routing-key=" + KEY,
					"pglockwatch.alerts.dashboard-url=https://lockwatch.example.com",
					"pglockwatch.alerts.delivery.max-events-per-minute=60")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				AlertProperties alerts = context.getBean(AlertProperties.class);
				assertThat(alerts.pagerduty().enabled()).isTrue();
				assertThat(alerts.pagerduty().routingKey()).isEqualTo(KEY);
				assertThat(alerts.delivery().maxEventsPerMinute()).isEqualTo(60);
				assertThat(alerts.toString()).doesNotContain(KEY);
			});
	}

}

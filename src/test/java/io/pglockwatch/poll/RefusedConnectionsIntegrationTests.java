package io.pglockwatch.poll;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A target whose connection slots are full (here: a role with CONNECTION LIMIT 0, the same SQLSTATE 53300 as
 * "sorry, too many clients already") is down with reason connect and the server's own message, logged once when it
 * goes down, not at every poll, and once more when it comes back.
 */
@ExtendWith(OutputCaptureExtension.class)
class RefusedConnectionsIntegrationTests {

	private final PostgresServer server = PostgresServer.shared();

	@Test
	void fullConnectionSlotsAreLoggedOncePerStateChangeWithTheServersMessage(CapturedOutput output) throws Exception {
		try (Connection admin = this.server.connect(PostgresServer.DEFAULT_DATABASE, "setup");
				Statement s = admin.createStatement()) {
			s.execute("DROP ROLE IF EXISTS slots_full; CREATE ROLE slots_full LOGIN PASSWORD 'slots' CONNECTION LIMIT 0;"
					+ " GRANT pg_monitor TO slots_full");
		}
		Map<String, String> properties = new LinkedHashMap<>(LabService.properties(this.server));
		properties.put("pglockwatch.targets[0].username", "slots_full");
		properties.put("pglockwatch.targets[0].password", "slots");
		properties.put("spring.datasource.url", "jdbc:h2:mem:refused;DB_CLOSE_DELAY=-1");
		try (ConfigurableApplicationContext app = LabService.start(properties)) {
			TargetStatus status = app.getBean(TargetStatus.class);
			await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.FALSE.equals(status.get("lab").up()));
			assertThat(status.get("lab").failure()).isEqualTo(PollFailure.CONNECT);
			assertThat(status.get("lab").error()).contains("too many connections for role \"slots_full\"");
			Thread.sleep(4 * LabService.POLL.toMillis() + 2000); // several more attempts, within the connect backoff
			assertThat(count(output.getAll(), "Target lab poll failed (connect)")).isEqualTo(1);
			assertThat(output.getAll()).contains("too many connections for role");

			try (Connection admin = this.server.connect(PostgresServer.DEFAULT_DATABASE, "setup");
					Statement s = admin.createStatement()) {
				s.execute("ALTER ROLE slots_full CONNECTION LIMIT 5");
			}
			await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.TRUE.equals(status.get("lab").up()));
			assertThat(count(output.getAll(), "Target lab is up again")).isEqualTo(1);
			assertThat(count(output.getAll(), "Target lab poll failed (connect)")).isEqualTo(1);
		}
	}

	private static int count(String text, String line) {
		return text.split(Pattern.quote(line), -1).length - 1;
	}

}

package io.pglockwatch.gate.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.pglockwatch.gate.Gate;
import io.pglockwatch.gate.GateSettings;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * The gate's cases of {@link ReaderLatencyBenchmark}: its defaults (the pre-check waits while a holder is there, so
 * the ALTER is not tried at all), and without the pre-check (the ALTER is tried while the holder is there, and the
 * watcher cancels it once a reader has queued behind it for max-victim-wait). The attempts are counted from the
 * migration session's {@code application_name} as {@code pg_stat_activity} shows it.
 */
final class GateCase {

	private static final Pattern ATTEMPT = Pattern.compile("pglockwatch-gate \\S+ attempt (\\d+)/\\d+");

	private GateCase() {
	}

	static ReaderLatencyBenchmark.Migration migration(boolean preCheck) {
		return (configuration) -> migrate(configuration, preCheck);
	}

	private static int migrate(FluentConfiguration configuration, boolean preCheck) throws Exception {
		Gate gate = new Gate(GateSettings.builder().preCheck(preCheck).build());
		AtomicInteger attempts = new AtomicInteger();
		AtomicBoolean done = new AtomicBoolean();
		String url = configuration.getUrl();
		Thread sampler = new Thread(() -> sample(url, configuration, attempts, done));
		sampler.start();
		try {
			gate.migrate(gate.configure(configuration).load());
		}
		finally {
			done.set(true);
			sampler.join();
		}
		return Math.max(1, attempts.get());
	}

	private static void sample(String url, FluentConfiguration configuration, AtomicInteger attempts,
			AtomicBoolean done) {
		try (Connection connection = DriverManager.getConnection(url, configuration.getUser(),
				configuration.getPassword()); Statement statement = connection.createStatement()) {
			while (!done.get()) {
				try (ResultSet rows = statement.executeQuery(
						"SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'pglockwatch-gate %'")) {
					while (rows.next()) {
						Matcher matcher = ATTEMPT.matcher(rows.getString(1));
						if (matcher.matches()) {
							attempts.accumulateAndGet(Integer.parseInt(matcher.group(1)), Math::max);
						}
					}
				}
				Thread.sleep(20);
			}
		}
		catch (Exception ex) {
			throw new IllegalStateException("cannot sample the gate's sessions", ex);
		}
	}

}

package io.pglockwatch.gate;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.sql.StatementLockModes;
import io.pglockwatch.sql.StatementLockModes.Classification;
import io.pglockwatch.sql.StatementLockModes.RelationLock;
import io.pglockwatch.sql.StatementLockModes.Scope;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before an attempt: is anybody in the migration's way right now? Asks the pg-lockwatch service's preflight when a
 * monitor is configured, otherwise looks itself: the relation locks each statement takes ({@link StatementLockModes},
 * statements it cannot classify are not checked) against the granted locks on those relations, counting only
 * holders whose transaction is older than {@code max-victim-wait} (a short one will be gone before anyone waits
 * long; the watcher covers it).
 */
final class PreCheck {

	private static final Logger log = LoggerFactory.getLogger(PreCheck.class);

	private static final String HOLDERS = """
			SELECT a.pid, a.application_name, a.usename, a.state,
			       coalesce((extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::bigint, -1), a.query, l.mode
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'relation' AND l.granted AND l.relation = to_regclass(?)
			  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND l.pid <> pg_backend_pid() AND l.pid <> ?
			ORDER BY a.xact_start""";

	private static final ObjectMapper JSON = JsonMapper.builder().build();

	private final GateSettings settings;
	private final HttpClient http;

	PreCheck(GateSettings settings) {
		this.settings = settings;
		this.http = settings.hasMonitor()
				? HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
				: null;
	}

	/**
	 * The sessions in the way of these statements now; empty when the way is clear (or nothing could be checked).
	 * @param migrationPid the migration's own session, never counted
	 */
	List<Blocker> inTheWay(List<String> statements, Connection connection, int migrationPid) {
		if (statements.isEmpty()) {
			return List.of();
		}
		return settings.hasMonitor() ? askMonitor(statements) : lookSelf(statements, connection, migrationPid);
	}

	private List<Blocker> lookSelf(List<String> statements, Connection connection, int migrationPid) {
		Map<Integer, Blocker> found = new LinkedHashMap<>();
		for (String statement : statements) {
			Classification classification;
			try {
				classification = StatementLockModes.classify(statement);
			}
			catch (IllegalArgumentException e) {
				continue; // unclassifiable: not checked
			}
			for (RelationLock lock : classification.relations()) {
				if (lock.scope() != Scope.RELATION) {
					continue;
				}
				try (PreparedStatement query = connection.prepareStatement(HOLDERS)) {
					query.setString(1, lock.relation());
					query.setInt(2, migrationPid);
					try (ResultSet rows = query.executeQuery()) {
						while (rows.next()) {
							LockMode held = LockMode.lookup(rows.getString(7));
							long age = rows.getLong(5);
							if (held == null || !lock.mode().conflictsWith(held)
									|| age < settings.maxVictimWait().toMillis()) {
								continue;
							}
							found.putIfAbsent(rows.getInt(1), Blocker.of(rows.getInt(1), rows.getString(2),
									rows.getString(3), rows.getString(4), age, rows.getString(6),
									held.pgName() + " on " + lock.name()));
						}
					}
				}
				catch (SQLException e) {
					log.warn("gate pre-check could not read pg_locks for {}: {}", lock.relation(), e.getMessage());
				}
			}
		}
		return List.copyOf(found.values());
	}

	private List<Blocker> askMonitor(List<String> statements) {
		List<Blocker> found = new ArrayList<>();
		String base = settings.monitorUrl().replaceAll("/+$", "");
		for (String statement : statements) {
			String url = base + "/api/v1/targets/" + URLEncoder.encode(settings.monitorTarget(), StandardCharsets.UTF_8)
					.replace("+", "%20") + "/preflight?statement=" + URLEncoder.encode(statement, StandardCharsets.UTF_8);
			HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
					.header("Accept", "application/json").GET();
			if (!settings.monitorToken().isEmpty()) {
				request.header("Authorization", "Bearer " + settings.monitorToken());
			}
			HttpResponse<String> response;
			try {
				response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
			}
			catch (IOException e) {
				log.warn("gate: the monitor's preflight at {} did not answer ({}); going on without it", base, e.toString());
				continue;
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				return found;
			}
			if (response.statusCode() == 400) {
				// a statement preflight cannot classify: not checked, as without a monitor
				continue;
			}
			if (response.statusCode() != 200) {
				log.warn("gate: the monitor's preflight answered {} for target {}: {}; going on without it",
						response.statusCode(), settings.monitorTarget(), abbreviate(response.body()));
				continue;
			}
			JsonNode answer = JSON.readTree(response.body());
			if (answer.path("safe").asBoolean(true)) {
				continue;
			}
			List<JsonNode> conflicts = new ArrayList<>();
			answer.path("conflicts").forEach(conflicts::add);
			answer.path("olderTransactions").forEach(conflicts::add);
			for (JsonNode conflict : conflicts) {
				JsonNode pid = conflict.path("pid");
				double age = conflict.path("transactionAgeSeconds").asDouble(-0.001);
				String mode = conflict.path("mode").isNull() || conflict.path("mode").isMissingNode() ? null
						: (conflict.path("granted").asBoolean(true) ? "" : "waits for ") + conflict.path("mode").asString()
								+ " on " + conflict.path("relation").asString("-");
				found.add(new Blocker(pid.isNumber() ? pid.asInt() : 0, conflict.path("applicationName").asString(""),
						conflict.path("user").asString(""), conflict.path("state").asString(""), (long) (age * 1000),
						conflict.path("query").isNull() ? null : conflict.path("query").asString(null), mode));
			}
			if (conflicts.isEmpty()) {
				found.add(new Blocker(0, "", "", "unsafe (no conflict listed)", -1, null, null));
			}
		}
		return found;
	}

	private static String abbreviate(String body) {
		String flat = body == null ? "" : body.replaceAll("\\s+", " ");
		return flat.length() > 300 ? flat.substring(0, 300) + "\u2026" : flat;
	}

}

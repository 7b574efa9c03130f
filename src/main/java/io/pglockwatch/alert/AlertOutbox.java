package io.pglockwatch.alert;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import io.pglockwatch.alert.OutboxEntry.State;
import io.pglockwatch.incident.StoreTime;

import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The alert outbox, in the incident store: an event is stored before any attempt to send it, so a crash or
 * restart loses nothing, and the sender works through it in order per incident and channel.
 */
public final class AlertOutbox {

	private static final String COLUMNS = """
			id, incident_id, channel, action, dedup_key, payload, state, attempts, created_at, next_attempt_at,
			sent_at, last_status, last_error
			""";

	private final JdbcClient jdbc;

	public AlertOutbox(JdbcClient jdbc) {
		this.jdbc = jdbc;
	}

	public void add(String incidentId, AlertAction action, String dedupKey, String payload, Instant now) {
		this.jdbc.sql("""
				INSERT INTO alert_outbox (incident_id, channel, action, dedup_key, payload, state, attempts, created_at,
				    next_attempt_at)
				VALUES (:incident, :channel, :action, :key, :payload, :pending, 0, :now, :now)
				""")
			.param("incident", incidentId)
			.param("channel", action.channel().label())
			.param("action", action.label())
			.param("pending", State.PENDING.label())
			.param("key", dedupKey)
			.param("payload", payload)
			.param("now", StoreTime.bind(now))
			.update();
	}

	/**
	 * Pending events of a channel due now, oldest first, each the oldest pending one of its incident: a later
	 * event (a resolve) never overtakes an earlier one (its trigger) that is still being retried.
	 */
	public List<OutboxEntry> due(AlertChannel channel, Instant now, int limit) {
		return this.jdbc.sql("SELECT " + COLUMNS + """
				FROM alert_outbox o
				WHERE o.channel = :channel AND o.state = :pending AND o.next_attempt_at <= :now
				  AND NOT EXISTS (SELECT 1 FROM alert_outbox e
				                  WHERE e.incident_id = o.incident_id AND e.channel = o.channel
				                    AND e.state = :pending AND e.id < o.id)
				ORDER BY o.id
				LIMIT :limit
				""")
			.param("channel", channel.label())
			.param("pending", State.PENDING.label())
			.param("now", StoreTime.bind(now))
			.param("limit", limit)
			.query(AlertOutbox::entry)
			.list();
	}

	public void markSent(long id, int status, Instant now) {
		this.jdbc.sql("""
				UPDATE alert_outbox SET state = :sent, attempts = attempts + 1, sent_at = :now, last_status = :status,
				    last_error = NULL
				WHERE id = :id
				""")
			.param("id", id)
			.param("sent", State.SENT.label())
			.param("status", status)
			.param("now", StoreTime.bind(now))
			.update();
	}

	public void markRetry(long id, Integer status, String error, Instant nextAttempt) {
		this.jdbc.sql("""
				UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = :next, last_status = :status,
				    last_error = :error
				WHERE id = :id
				""")
			.param("id", id)
			.param("status", status)
			.param("error", truncate(error))
			.param("next", StoreTime.bind(nextAttempt))
			.update();
	}

	public void markFailed(long id, Integer status, String error) {
		this.jdbc.sql("""
				UPDATE alert_outbox SET state = :failed, attempts = attempts + 1, last_status = :status,
				    last_error = :error
				WHERE id = :id
				""")
			.param("id", id)
			.param("failed", State.FAILED.label())
			.param("status", status)
			.param("error", truncate(error))
			.update();
	}

	public List<OutboxEntry> forIncident(String incidentId) {
		return this.jdbc.sql("SELECT " + COLUMNS + " FROM alert_outbox WHERE incident_id = :id ORDER BY id")
			.param("id", incidentId)
			.query(AlertOutbox::entry)
			.list();
	}

	/** Events in a state, newest first. */
	public List<OutboxEntry> inState(State state, int limit) {
		return this.jdbc.sql("SELECT " + COLUMNS + " FROM alert_outbox WHERE state = :state ORDER BY id DESC LIMIT :limit")
			.param("state", state.label())
			.param("limit", limit)
			.query(AlertOutbox::entry)
			.list();
	}

	/** Per channel: how many events wait to be accepted, and since when the oldest has. */
	public Map<AlertChannel, Backlog> backlog() {
		Map<AlertChannel, Backlog> result = new EnumMap<>(AlertChannel.class);
		this.jdbc.sql("""
				SELECT channel, count(*) AS pending, min(created_at) AS oldest
				FROM alert_outbox WHERE state = :pending GROUP BY channel
				""").param("pending", State.PENDING.label()).query((rs) -> {
			result.put(AlertChannel.of(rs.getString("channel")),
					new Backlog(rs.getLong("pending"), StoreTime.read(rs, "oldest")));
		});
		return result;
	}

	/** @param oldest when the oldest pending event was stored */
	public record Backlog(long pending, Instant oldest) {
	}

	/**
	 * Per channel that has events: how many are in each state, and the refusals since the channel last accepted
	 * one. A few queries over the whole table, cheap at the sizes incident retention keeps it to.
	 */
	public Map<AlertChannel, Tally> tally() {
		Map<AlertChannel, Map<State, Count>> counts = new EnumMap<>(AlertChannel.class);
		this.jdbc.sql("SELECT channel, state, count(*) AS events, max(id) AS newest FROM alert_outbox GROUP BY channel, state")
			.query((rs) -> {
				counts.computeIfAbsent(AlertChannel.of(rs.getString("channel")), (c) -> new EnumMap<>(State.class))
					.put(State.of(rs.getString("state")), new Count(rs.getLong("events"), rs.getLong("newest")));
			});
		Map<AlertChannel, Tally> result = new EnumMap<>(AlertChannel.class);
		counts.forEach((channel, states) -> {
			Count pending = states.getOrDefault(State.PENDING, Count.NONE);
			Count sent = states.getOrDefault(State.SENT, Count.NONE);
			Count failed = states.getOrDefault(State.FAILED, Count.NONE);
			if (failed.events() == 0) {
				result.put(channel, new Tally(pending.events(), sent.events(), 0, 0, null));
				return;
			}
			OutboxEntry lastFailed = this.jdbc.sql("SELECT " + COLUMNS + " FROM alert_outbox WHERE id = :id")
				.param("id", failed.newest())
				.query(AlertOutbox::entry)
				.optional()
				.orElse(null);
			long failedSinceLastSent = (failed.newest() < sent.newest()) ? 0 : this.jdbc.sql("""
					SELECT count(*) FROM alert_outbox WHERE channel = :channel AND state = :failed AND id > :sent
					""")
				.param("channel", channel.label())
				.param("failed", State.FAILED.label())
				.param("sent", sent.newest())
				.query(Long.class)
				.single();
			result.put(channel, new Tally(pending.events(), sent.events(), failed.events(), failedSinceLastSent,
					lastFailed));
		});
		return result;
	}

	private record Count(long events, long newest) {

		static final Count NONE = new Count(0, 0);

	}

	/**
	 * The events of one channel by state.
	 *
	 * @param failedSinceLastSent events refused for good after the newest one the channel accepted (all refused
	 * ones if it never accepted any): more than 0 means the channel refuses what it is sent now
	 * @param lastFailed the newest refused event; null when none was refused
	 */
	public record Tally(long pending, long sent, long failed, long failedSinceLastSent, OutboxEntry lastFailed) {

		/** A channel with no events at all. */
		public static final Tally NONE = new Tally(0, 0, 0, 0, null);

	}

	private static OutboxEntry entry(ResultSet rs, int row) throws SQLException {
		int status = rs.getInt("last_status");
		Integer lastStatus = rs.wasNull() ? null : status;
		return new OutboxEntry(rs.getLong("id"), rs.getString("incident_id"), AlertChannel.of(rs.getString("channel")),
				AlertAction.of(rs.getString("action")), rs.getString("dedup_key"), rs.getString("payload"),
				State.of(rs.getString("state")), rs.getInt("attempts"), StoreTime.read(rs, "created_at"),
				StoreTime.read(rs, "next_attempt_at"), StoreTime.read(rs, "sent_at"), lastStatus, rs.getString("last_error"));
	}

	private static String truncate(String error) {
		return (error == null || error.length() <= 2000) ? error : error.substring(0, 1997) + "...";
	}

}

package io.pglockwatch.incident;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.lock.LockMode;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.EmptyResultDataAccessException;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.util.Assert;

/**
 * The incident history: incidents, the timeline of each (the polls where something changed, see
 * {@code TimelineStretch}) and the lock-wait graph at its peak, kept in the service's own database, H2 or PostgreSQL,
 * with the schema of the Flyway migrations in {@code db/migration/{vendor}}.
 *
 * <p>Instants are stored as UTC timestamps to the microsecond (finer parts are truncated, so both databases give
 * back the same instant) and durations as whole milliseconds. Absent facts stay null: an incident without a DDL
 * reads back with a null {@link Incident#ddl()}, a prepared transaction keeps pid 0 and its gid.
 *
 * <p>Thread-safe, and safe with several replicas on one database. Each statement joins a Spring-managed transaction
 * when the caller has one and commits on its own otherwise.
 */
public final class IncidentStore {

	/** What a stored session has, under the prefix {@code ddl_} (the waiting DDL) or {@code root_} (the root blocker). */
	private static final List<String> SESSION_COLUMNS = List.of("pid", "backend_start", "state", "application_name",
			"user_name", "client_address", "database", "transaction_start", "transaction_age_ms", "idle_for_ms",
			"statement", "command_tag", "prepared_gid");

	/**
	 * The columns of an {@link Incident}, each bound as a parameter of the same name: without peak_graph and details
	 * (large, written by other methods) and created_at/updated_at (stamped here).
	 */
	private static final List<String> INCIDENT_COLUMNS = Stream
		.of(Stream.of("id", "dedup_key", "target", "kind", "severity", "state", "opened_at", "escalated_at",
				"resolved_at", "last_seen_at"), SESSION_COLUMNS.stream().map((c) -> "ddl_" + c),
				Stream.of("ddl_mode", "ddl_relation", "ddl_waited_ms"), SESSION_COLUMNS.stream().map((c) -> "root_" + c),
				Stream.of("queue_depth", "peak_queue_depth", "peak_max_wait_ms", "database"))
		.flatMap((columns) -> columns)
		.toList();

	private static final String SELECT_INCIDENT = "SELECT " + String.join(", ", INCIDENT_COLUMNS) + "\nFROM incident\n";

	private static final String UPDATE_INCIDENT = "UPDATE incident SET "
			+ INCIDENT_COLUMNS.stream().filter((c) -> !c.equals("id")).map((c) -> c + " = :" + c).collect(Collectors.joining(", "))
			+ ", updated_at = :now\nWHERE id = :id\n";

	private static final String INSERT_INCIDENT = "INSERT INTO incident (" + String.join(", ", INCIDENT_COLUMNS)
			+ ", created_at, updated_at)\nVALUES ("
			+ INCIDENT_COLUMNS.stream().map((c) -> ":" + c).collect(Collectors.joining(", ")) + ", :now, :now)\n";

	private static final String INSERT_TIMELINE_POINT = """
			INSERT INTO incident_timeline (incident_id, at, queue_depth, max_wait_ms)
			VALUES (:incident_id, :at, :queue_depth, :max_wait_ms)
			""";

	// the newest row of the incident (id grows with insertion) is its latest point
	private static final String MOVE_LAST_TIMELINE_POINT = """
			UPDATE incident_timeline SET at = :at, queue_depth = :queue_depth, max_wait_ms = :max_wait_ms
			WHERE id = (SELECT max(id) FROM incident_timeline WHERE incident_id = :incident_id)
			""";

	// id breaks ties between points recorded at the same instant: it grows with insertion
	private static final String SELECT_TIMELINE = """
			SELECT at, queue_depth, max_wait_ms
			FROM incident_timeline
			WHERE incident_id = :incident_id
			ORDER BY at, id
			""";

	private static final String UPDATE_PEAK_GRAPH = """
			UPDATE incident SET peak_graph = :peak_graph, updated_at = :now
			WHERE id = :id
			""";

	private static final String SELECT_PEAK_GRAPH = """
			SELECT peak_graph FROM incident WHERE id = :id
			""";

	private static final String COUNT_BY_STATE = """
			SELECT count(*) FROM incident WHERE state IN (:states)
			""";

	private static final String COUNT_ALL = """
			SELECT count(*) FROM incident
			""";

	// incident_timeline rows go with them: ON DELETE CASCADE
	private static final String DELETE_RESOLVED_BEFORE = """
			DELETE FROM incident
			WHERE state = :resolved AND resolved_at < :before
			""";

	private static final String DELETE_OLDEST_RESOLVED = """
			DELETE FROM incident
			WHERE id IN (
				SELECT id FROM incident
				WHERE state = :resolved
				ORDER BY opened_at, id
				LIMIT :count)
			""";

	private static final List<String> ACTIVE_STATES = List.of(IncidentState.OPEN.label(),
			IncidentState.ESCALATED.label());

	private final JdbcClient jdbc;

	private final Clock clock;

	/**
	 * A store on the database of {@code jdbc}, e.g. {@code JdbcClient.create(dataSource)}; the schema must be
	 * migrated already.
	 */
	public IncidentStore(JdbcClient jdbc) {
		this(jdbc, Clock.systemUTC());
	}

	/** With the clock that stamps created_at and updated_at. */
	IncidentStore(JdbcClient jdbc, Clock clock) {
		Assert.notNull(jdbc, "JdbcClient must not be null");
		Assert.notNull(clock, "Clock must not be null");
		this.jdbc = jdbc;
		this.clock = clock;
	}

	/** Inserts the incident, or replaces the stored one with the same id; its timeline and peak graph stay. */
	public void save(Incident incident) {
		Assert.notNull(incident, "Incident must not be null");
		Assert.notNull(incident.id(), "Incident id must not be null");
		MapSqlParameterSource params = incidentParameters(incident);
		// portable upsert: MERGE and ON CONFLICT are spelled differently by H2 and PostgreSQL
		if (this.jdbc.sql(UPDATE_INCIDENT).paramSource(params).update() > 0) {
			return;
		}
		try {
			this.jdbc.sql(INSERT_INCIDENT).paramSource(params).update();
		}
		catch (DataIntegrityViolationException ex) {
			// another writer (a second replica) inserted the same id between our update and insert: update it now;
			// anything else, such as a missing value, fails the update too and is rethrown
			if (this.jdbc.sql(UPDATE_INCIDENT).paramSource(params).update() == 0) {
				throw ex;
			}
		}
	}

	/**
	 * Adds a point to the incident's timeline.
	 * @throws DataIntegrityViolationException when there is no incident {@code incidentId}
	 */
	public void appendTimeline(String incidentId, TimelinePoint point) {
		this.jdbc.sql(INSERT_TIMELINE_POINT).paramSource(timelineParameters(incidentId, point)).update();
	}

	/**
	 * Replaces the newest point of the incident's timeline with {@code point}, or adds it when there is none: the
	 * latest poll of a run that continues (see {@code TimelineStretch}).
	 * @throws DataIntegrityViolationException when there is no incident {@code incidentId}
	 */
	public void moveLastTimelinePoint(String incidentId, TimelinePoint point) {
		MapSqlParameterSource params = timelineParameters(incidentId, point);
		if (this.jdbc.sql(MOVE_LAST_TIMELINE_POINT).paramSource(params).update() == 0) {
			this.jdbc.sql(INSERT_TIMELINE_POINT).paramSource(params).update();
		}
	}

	private static MapSqlParameterSource timelineParameters(String incidentId, TimelinePoint point) {
		Assert.notNull(incidentId, "Incident id must not be null");
		Assert.notNull(point, "TimelinePoint must not be null");
		MapSqlParameterSource params = new MapSqlParameterSource();
		text(params, "incident_id", incidentId);
		timestamp(params, "at", point.at());
		params.addValue("queue_depth", point.queueDepth(), Types.INTEGER);
		millis(params, "max_wait_ms", point.maxWait());
		return params;
	}

	/**
	 * Replaces the incident's peak lock-wait graph (JSON; null removes it).
	 * @throws EmptyResultDataAccessException when there is no incident {@code incidentId}
	 */
	public void savePeakGraph(String incidentId, String graphJson) {
		Assert.notNull(incidentId, "Incident id must not be null");
		MapSqlParameterSource params = new MapSqlParameterSource();
		text(params, "id", incidentId);
		text(params, "peak_graph", graphJson);
		timestamp(params, "now", this.clock.instant());
		if (this.jdbc.sql(UPDATE_PEAK_GRAPH).paramSource(params).update() == 0) {
			throw new EmptyResultDataAccessException("no incident '" + incidentId + "' to attach a peak graph to", 1);
		}
	}

	public Optional<Incident> findById(String id) {
		return this.jdbc.sql(SELECT_INCIDENT + "WHERE id = :id")
			.param("id", id, Types.VARCHAR)
			.query(IncidentStore::incident)
			.optional();
	}

	/** The open and escalated incidents, oldest first: what a restarted service continues. */
	public List<Incident> findActive() {
		return this.jdbc.sql(SELECT_INCIDENT + "WHERE state IN (:states) ORDER BY opened_at, id")
			.param("states", ACTIVE_STATES)
			.query(IncidentStore::incident)
			.list();
	}

	/** The incidents that match all filters of the query that are set, newest opened first. */
	public List<Incident> find(IncidentQuery query) {
		Assert.notNull(query, "IncidentQuery must not be null");
		MapSqlParameterSource params = new MapSqlParameterSource();
		// only constant fragments are appended; every value is bound
		List<String> conditions = new ArrayList<>();
		if (query.state() == IncidentState.OPEN) {
			conditions.add("state IN ('open', 'escalated')");
		}
		else if (query.state() != null) {
			conditions.add("state = :state");
			text(params, "state", query.state().label());
		}
		if (query.target() != null) {
			conditions.add("target = :target");
			text(params, "target", query.target());
		}
		if (query.kind() != null) {
			conditions.add("kind = :kind");
			text(params, "kind", query.kind().label());
		}
		params.addValue("limit", query.limit(), Types.INTEGER);
		String where = conditions.isEmpty() ? "" : "WHERE " + String.join(" AND ", conditions) + "\n";
		return this.jdbc.sql(SELECT_INCIDENT + where + "ORDER BY opened_at DESC, id DESC LIMIT :limit")
			.paramSource(params)
			.query(IncidentStore::incident)
			.list();
	}

	/** The incident's timeline, oldest point first; empty for an unknown incident. */
	public List<TimelinePoint> timeline(String incidentId) {
		return this.jdbc.sql(SELECT_TIMELINE)
			.param("incident_id", incidentId, Types.VARCHAR)
			.query((rs, rowNum) -> new TimelinePoint(StoreTime.read(rs, "at"), rs.getInt("queue_depth"),
					duration(rs, "max_wait_ms")))
			.list();
	}

	/** The incident's peak graph; empty when the incident has none or does not exist. */
	public Optional<String> peakGraph(String incidentId) {
		List<String> graphs = this.jdbc.sql(SELECT_PEAK_GRAPH)
			.param("id", incidentId, Types.VARCHAR)
			.query((rs, rowNum) -> rs.getString("peak_graph"))
			.list();
		return graphs.isEmpty() ? Optional.empty() : Optional.ofNullable(graphs.get(0));
	}

	/** How many incidents are open or escalated. */
	public long countActive() {
		return this.jdbc.sql(COUNT_BY_STATE).param("states", ACTIVE_STATES).query(Long.class).single();
	}

	/**
	 * Deletes old resolved incidents with their timelines and peak graphs, in two steps: first those resolved
	 * before {@code resolvedBefore}; then, while more than {@code keepNewest} incidents remain, the oldest resolved
	 * ones (by opening time) until {@code keepNewest} remain. Active incidents are never deleted, and count towards
	 * {@code keepNewest}, so more may remain when more are active.
	 * @param resolvedBefore null to prune by count only
	 * @param keepNewest how many incidents to keep at most; {@link Integer#MAX_VALUE} to prune by age only
	 * @return how many incidents were deleted
	 */
	public int prune(Instant resolvedBefore, int keepNewest) {
		Assert.isTrue(keepNewest >= 0, () -> "keepNewest must not be negative, not " + keepNewest);
		int deleted = 0;
		if (resolvedBefore != null) {
			MapSqlParameterSource params = new MapSqlParameterSource();
			text(params, "resolved", IncidentState.RESOLVED.label());
			timestamp(params, "before", resolvedBefore);
			deleted += this.jdbc.sql(DELETE_RESOLVED_BEFORE).paramSource(params).update();
		}
		long excess = this.jdbc.sql(COUNT_ALL).query(Long.class).single() - keepNewest;
		if (excess > 0) {
			MapSqlParameterSource params = new MapSqlParameterSource();
			text(params, "resolved", IncidentState.RESOLVED.label());
			params.addValue("count", excess, Types.BIGINT);
			deleted += this.jdbc.sql(DELETE_OLDEST_RESOLVED).paramSource(params).update();
		}
		return deleted;
	}

	private MapSqlParameterSource incidentParameters(Incident incident) {
		MapSqlParameterSource params = new MapSqlParameterSource();
		text(params, "id", incident.id());
		text(params, "dedup_key", incident.dedupKey());
		text(params, "target", incident.target());
		text(params, "kind", (incident.kind() != null) ? incident.kind().label() : null);
		text(params, "severity", (incident.severity() != null) ? incident.severity().label() : null);
		text(params, "state", (incident.state() != null) ? incident.state().label() : null);
		timestamp(params, "opened_at", incident.openedAt());
		timestamp(params, "escalated_at", incident.escalatedAt());
		timestamp(params, "resolved_at", incident.resolvedAt());
		timestamp(params, "last_seen_at", incident.lastSeenAt());
		DdlFacts ddl = incident.ddl();
		session(params, "ddl_", (ddl != null) ? ddl.session() : null);
		text(params, "ddl_mode", (ddl != null && ddl.mode() != null) ? ddl.mode().pgName() : null);
		text(params, "ddl_relation", (ddl != null) ? ddl.relation() : null);
		millis(params, "ddl_waited_ms", (ddl != null) ? ddl.waited() : null);
		session(params, "root_", incident.rootBlocker());
		params.addValue("queue_depth", incident.queueDepth(), Types.INTEGER);
		params.addValue("peak_queue_depth", incident.peakQueueDepth(), Types.INTEGER);
		millis(params, "peak_max_wait_ms", incident.peakMaxWait());
		text(params, "database", incident.database());
		timestamp(params, "now", this.clock.instant());
		return params;
	}

	private static void session(MapSqlParameterSource params, String prefix, SessionFacts session) {
		boolean present = session != null;
		params.addValue(prefix + "pid", present ? session.pid() : null, Types.INTEGER);
		timestamp(params, prefix + "backend_start", present ? session.backendStart() : null);
		text(params, prefix + "state", present ? session.state() : null);
		text(params, prefix + "application_name", present ? session.applicationName() : null);
		text(params, prefix + "user_name", present ? session.user() : null);
		text(params, prefix + "client_address", present ? session.clientAddress() : null);
		text(params, prefix + "database", present ? session.database() : null);
		timestamp(params, prefix + "transaction_start", present ? session.transactionStart() : null);
		millis(params, prefix + "transaction_age_ms", present ? session.transactionAge() : null);
		millis(params, prefix + "idle_for_ms", present ? session.idleFor() : null);
		text(params, prefix + "statement", present ? session.statement() : null);
		text(params, prefix + "command_tag", present ? session.commandTag() : null);
		text(params, prefix + "prepared_gid", present ? session.preparedGid() : null);
	}

	// typed, so that a null needs no parameter metadata round trip and PostgreSQL never sees an untyped null
	private static void text(MapSqlParameterSource params, String name, String value) {
		params.addValue(name, value, Types.VARCHAR);
	}

	private static void timestamp(MapSqlParameterSource params, String name, Instant value) {
		// JDBC 4.2 binds OffsetDateTime, not Instant, to a timestamp with time zone in both drivers
		params.addValue(name, StoreTime.bind(value), Types.TIMESTAMP_WITH_TIMEZONE);
	}

	private static void millis(MapSqlParameterSource params, String name, Duration value) {
		params.addValue(name, (value != null) ? value.toMillis() : null, Types.BIGINT);
	}

	private static Incident incident(ResultSet rs, int rowNum) throws SQLException {
		return new Incident(rs.getString("id"), rs.getString("dedup_key"), rs.getString("target"),
				IncidentKind.of(rs.getString("kind")), severity(rs.getString("severity")),
				IncidentState.of(rs.getString("state")), StoreTime.read(rs, "opened_at"), StoreTime.read(rs, "escalated_at"),
				StoreTime.read(rs, "resolved_at"), StoreTime.read(rs, "last_seen_at"), ddl(rs), session(rs, "root_"),
				rs.getInt("queue_depth"), rs.getInt("peak_queue_depth"), duration(rs, "peak_max_wait_ms"),
				rs.getString("database"));
	}

	private static DdlFacts ddl(ResultSet rs) throws SQLException {
		SessionFacts session = session(rs, "ddl_");
		String mode = rs.getString("ddl_mode");
		String relation = rs.getString("ddl_relation");
		Duration waited = duration(rs, "ddl_waited_ms");
		// only a DDL with no fact at all reads back as none
		if (session == null && mode == null && relation == null && waited == null) {
			return null;
		}
		return new DdlFacts(session, (mode != null) ? LockMode.of(mode) : null, relation, waited);
	}

	private static SessionFacts session(ResultSet rs, String prefix) throws SQLException {
		// pid is a primitive in SessionFacts: null in the row means there was no session
		int pid = rs.getInt(prefix + "pid");
		if (rs.wasNull()) {
			return null;
		}
		return new SessionFacts(pid, StoreTime.read(rs, prefix + "backend_start"), rs.getString(prefix + "state"),
				rs.getString(prefix + "application_name"), rs.getString(prefix + "user_name"),
				rs.getString(prefix + "client_address"), rs.getString(prefix + "database"),
				StoreTime.read(rs, prefix + "transaction_start"), duration(rs, prefix + "transaction_age_ms"),
				duration(rs, prefix + "idle_for_ms"), rs.getString(prefix + "statement"),
				rs.getString(prefix + "command_tag"), rs.getString(prefix + "prepared_gid"));
	}

	private static Duration duration(ResultSet rs, String column) throws SQLException {
		long millis = rs.getLong(column);
		return rs.wasNull() ? null : Duration.ofMillis(millis);
	}

	// Severity has no of(label) like IncidentKind and IncidentState; its labels are its names in lower case
	private static Severity severity(String label) {
		for (Severity severity : Severity.values()) {
			if (severity.label().equals(label)) {
				return severity;
			}
		}
		throw new IllegalArgumentException("unknown severity '" + label + "'; expected warning or critical");
	}

}

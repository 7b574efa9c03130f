package io.pglockwatch.guard;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.incident.StoreTime;
import io.pglockwatch.incident.StoreWriter;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Guard decisions and operator actions, in the incident store. Adding queues the write on the {@link StoreWriter}, so
 * neither a poll (dry-runs and skips are recorded on the poll thread) nor a signal waits for the store.
 */
public final class GuardLog {

	private final JdbcClient jdbc;

	private final StoreWriter writes;

	private final Cluster cluster;

	public GuardLog(JdbcClient jdbc, StoreWriter writes, Cluster cluster) {
		this.jdbc = jdbc;
		this.writes = writes;
		this.cluster = cluster;
	}

	/**
	 * Queues the record; it is in the store once the store writer has done it.
	 * @param fence the leadership of the target's shard the action was taken under, refused once stale; null for an
	 * operator's action on a replica that does not lead the target (recorded as it is)
	 */
	public void add(GuardRecord r, Fence fence) {
		this.writes.submit("guard " + r.action().label() + " of pid " + r.pid() + " on " + r.target(), null, false,
				() -> {
					if (fence != null) {
						this.cluster.write(fence, () -> insert(r));
					}
					else {
						insert(r);
					}
				});
	}

	private void insert(GuardRecord r) {
		this.jdbc.sql("""
				INSERT INTO guard_action (at, target, dedup_key, action, actor, mode, pid, backend_start,
				    application_name, user_name, outcome, reason)
				VALUES (:at, :target, :key, :action, :actor, :mode, :pid, :start, :app, :user, :outcome, :reason)
				""")
			.param("mode", (r.mode() != null) ? r.mode().label() : null, Types.VARCHAR)
			.param("at", StoreTime.bind(r.at()))
			.param("target", r.target())
			.param("key", r.dedupKey())
			.param("action", r.action().label())
			.param("actor", r.actor())
			.param("pid", r.pid())
			.param("start", r.backendStart() == null ? null : StoreTime.bind(r.backendStart()))
			.param("app", r.applicationName())
			.param("user", r.user())
			.param("outcome", r.outcome().label())
			.param("reason", r.reason() == null || r.reason().length() <= 2000 ? r.reason() : r.reason().substring(0, 2000))
			.update();
	}

	/** The actions about one incident, oldest first. */
	/**
	 * @throws DataAccessException when the store cannot be read, at once while its writes fail (a store that refuses
	 * writes is not waited on for a read)
	 */
	public List<GuardRecord> forIncident(String dedupKey) {
		StoreWriter.Failure failure = this.writes.failure();
		if (failure != null) {
			throw new DataAccessResourceFailureException("the incident store is failing since " + failure.since());
		}
		return this.jdbc.sql("""
				SELECT at, target, dedup_key, action, actor, mode, pid, backend_start, application_name, user_name, outcome,
				    reason
				FROM guard_action WHERE dedup_key = :key ORDER BY at, id
				""").param("key", dedupKey).query(GuardLog::record).list();
	}

	private static GuardRecord record(ResultSet rs, int row) throws SQLException {
		return new GuardRecord(StoreTime.read(rs, "at"), rs.getString("target"), rs.getString("dedup_key"),
				GuardAction.of(rs.getString("action")), rs.getString("actor"),
				(rs.getString("mode") != null) ? GuardMode.of(rs.getString("mode")) : null, rs.getInt("pid"), StoreTime.read(rs, "backend_start"), rs.getString("application_name"),
				rs.getString("user_name"), GuardOutcome.of(rs.getString("outcome")), rs.getString("reason"));
	}

}

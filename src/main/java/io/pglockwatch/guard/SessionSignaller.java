package io.pglockwatch.guard;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import io.pglockwatch.poll.TargetConnections;

/**
 * Cancels or terminates one backend, safely: immediately before the signal it re-reads that session and signals
 * only if pid, backend_start and query_start still match (pids are reused) and it still blocks someone.
 */
final class SessionSignaller {

	static final String REREAD_SQL = """
			SELECT a.backend_start, a.query_start, a.state,
			       (SELECT count(*) FROM pg_catalog.pg_stat_activity w
			        WHERE w.wait_event_type = 'Lock' AND a.pid = ANY (pg_catalog.pg_blocking_pids(w.pid))) AS blocked
			FROM pg_catalog.pg_stat_activity a
			WHERE a.pid = ?
			""";

	static final String CANCEL_SQL = "SELECT pg_catalog.pg_cancel_backend(?)";

	static final String TERMINATE_SQL = "SELECT pg_catalog.pg_terminate_backend(?)";

	/** The outcome and why. */
	record Result(GuardOutcome outcome, String reason) {
	}

	Result signal(TargetConnections connections, boolean terminate, int pid, Instant backendStart, Instant queryStart) {
		Connection connection = null;
		boolean broken = false;
		try {
			connection = connections.borrow();
			try (PreparedStatement reread = connection.prepareStatement(REREAD_SQL)) {
				reread.setInt(1, pid);
				try (ResultSet rs = reread.executeQuery()) {
					if (!rs.next()) {
						return new Result(GuardOutcome.GONE, "pid " + pid + " has ended");
					}
					if (!same(rs.getTimestamp("backend_start"), backendStart) || !same(rs.getTimestamp("query_start"), queryStart)) {
						return new Result(GuardOutcome.CHANGED, "pid " + pid + " is now another session or runs another statement");
					}
					if (rs.getLong("blocked") == 0) {
						return new Result(GuardOutcome.NOT_BLOCKING, "pid " + pid + " no longer blocks anyone");
					}
				}
			}
			try (PreparedStatement act = connection.prepareStatement(terminate ? TERMINATE_SQL : CANCEL_SQL)) {
				act.setInt(1, pid);
				try (ResultSet rs = act.executeQuery()) {
					rs.next();
					if (rs.getBoolean(1)) {
						return new Result(terminate ? GuardOutcome.TERMINATED : GuardOutcome.CANCELLED, null);
					}
					return new Result(GuardOutcome.FAILED, "PostgreSQL could not signal pid " + pid);
				}
			}
		}
		catch (SQLException ex) {
			if ("42501".equals(ex.getSQLState())) {
				// pg_signal_backend is missing, or the session belongs to a superuser, which it cannot signal
				return new Result(GuardOutcome.NOT_PERMITTED, ex.getMessage());
			}
			broken = true;
			return new Result(GuardOutcome.FAILED, ex.getMessage());
		}
		finally {
			connections.release(connection, broken);
		}
	}

	private static boolean same(Timestamp seen, Instant expected) {
		if (seen == null || expected == null) {
			return seen == null && expected == null;
		}
		return seen.toInstant().truncatedTo(ChronoUnit.MICROS).equals(expected.truncatedTo(ChronoUnit.MICROS));
	}

}

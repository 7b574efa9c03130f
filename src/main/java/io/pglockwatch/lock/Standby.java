package io.pglockwatch.lock;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What a poll of a hot standby (a server in recovery) saw of its replay.
 *
 * @param lastReplayAt when the last transaction replayed from the primary committed there
 * ({@code pg_last_xact_replay_timestamp()}); null before the standby replayed any
 * @param startupPid the pid of the startup process, which replays the primary's WAL and holds the locks it replays;
 * null when it could not be seen
 * @param replayWait what the startup process waits for ({@code wait_event_type: wait_event}), null while it does not
 * wait, e.g. {@code Lock: relation} when replay waits for a query on this standby
 * @param conflicts queries on this standby cancelled because of a conflict with replay, since the server's statistics
 * were reset, by kind ({@code pg_stat_database_conflicts}, summed over the databases): lock, snapshot, bufferpin,
 * deadlock, tablespace
 */
public record Standby(Instant lastReplayAt, Integer startupPid, String replayWait, Map<String, Long> conflicts) {

	/** The kinds of {@link #conflicts()}, as pg_stat_database_conflicts names its columns without {@code confl_}. */
	public static final String[] CONFLICT_KINDS = { "lock", "snapshot", "bufferpin", "deadlock", "tablespace" };

	public Standby {
		conflicts = Map.copyOf(conflicts);
	}

	/**
	 * Whether a wait of the startup process ({@code type: event}) is replay waiting for queries on the standby: for a
	 * lock they hold, a buffer pin, or a recovery conflict being resolved. Waiting for WAL to arrive is not.
	 */
	public static boolean replayWaitsForQueries(String replayWait) {
		if (replayWait == null) {
			return false;
		}
		return replayWait.startsWith("Lock:") || replayWait.startsWith("BufferPin:")
				|| replayWait.contains("RecoveryConflict");
	}

	/** How far replay is behind, as of {@code at}: the age of the last replayed commit; null before any. */
	public Duration replayLag(Instant at) {
		if (this.lastReplayAt == null) {
			return null;
		}
		Duration lag = Duration.between(this.lastReplayAt, at);
		return lag.isNegative() ? Duration.ZERO : lag;
	}

}

package io.pglockwatch.poll;

import java.time.Duration;
import java.time.Instant;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.Standby;

/**
 * What is known about one target after its latest poll. Immutable; {@link TargetStatus} swaps it.
 *
 * @param up null before the first poll finished, else whether the latest poll succeeded
 * @param graph the graph of the latest successful poll; stale when {@code up} is false
 * @param failure why the latest poll failed, else null
 * @param error the latest failure's message for people, else null
 * @param privilegeWarning set when the role lacks pg_monitor / pg_read_all_stats, so other users' query
 * text and client addresses are hidden from the monitor
 * @param standby what the latest successful poll saw of replay when the target is a hot standby; null on a primary
 * and before the first successful poll
 */
public record TargetState(String name, Boolean up, Instant lastPollAt, Instant lastSuccessAt, Duration lastDuration,
		int serverVersionNum, LockWaitGraph graph, PollFailure failure, String error, String privilegeWarning,
		Standby standby) {

	/** The role of a target in recovery. */
	public static final String STANDBY = "standby";

	/** The role of a target that is not. */
	public static final String PRIMARY = "primary";

	/** Why a target has no state here while another replica polls it and has not published its state yet. */
	public static final String POLLED_ELSEWHERE = "polled by the replica that leads its shard, which has not "
			+ "published its state yet";

	public static TargetState initial(String name) {
		return new TargetState(name, null, null, null, null, 0, null, null, "not polled yet", null, null);
	}

	/** A target this replica does not poll, before the state its poller published is read. */
	public static TargetState elsewhere(String name) {
		return new TargetState(name, null, null, null, null, 0, null, null, POLLED_ELSEWHERE, null, null);
	}

	/** {@code standby} or {@code primary} as of the latest successful poll; null before one. */
	public String role() {
		if (this.lastSuccessAt == null) {
			return null;
		}
		return (this.standby != null) ? STANDBY : PRIMARY;
	}

	/** Whether the latest successful poll found the target in recovery. */
	public boolean isStandby() {
		return this.standby != null;
	}

	public boolean isUp() {
		return Boolean.TRUE.equals(this.up);
	}

	/** The graph, only while it is fresh (the latest poll succeeded). */
	public LockWaitGraph freshGraph() {
		return isUp() ? this.graph : null;
	}

	/** {@code 18.1}, {@code 14.24}; null before the first successful poll. */
	public String serverVersion() {
		if (this.serverVersionNum == 0) {
			return null;
		}
		return (this.serverVersionNum / 10000) + "." + (this.serverVersionNum % 100);
	}

	TargetState succeeded(Instant at, Duration duration, int versionNum, LockWaitGraph graph, String warning,
			Standby standby) {
		return new TargetState(this.name, true, at, at, duration, versionNum, graph, null, null, warning, standby);
	}

	TargetState failed(Instant at, Duration duration, PollFailure failure, String error) {
		return new TargetState(this.name, false, at, this.lastSuccessAt, duration, this.serverVersionNum, this.graph,
				failure, error, this.privilegeWarning, this.standby);
	}

}

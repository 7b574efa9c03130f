package io.pglockwatch.guard;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

import io.pglockwatch.detect.SessionFacts;

/**
 * What the guard remembers of one target between polls: all {@link GuardPolicy} needs besides the graph. A session
 * is forgotten (timers and decisions) once it no longer heads a DDL queue or is an idle-in-transaction root blocker;
 * {@code cancelled} is kept.
 *
 * @param queueSince per DDL session, when its queue first reached {@code min-queued}
 * @param blockingSince per idle-in-transaction root blocker, since when it has been seen blocking
 * @param decided what was already decided about which session (at most once per session per situation)
 * @param cancelled sessions whose DDL the guard did cancel (known only after the signal, so kept by the caller)
 */
public record GuardHistory(Map<Session, Instant> queueSince, Map<Session, Instant> blockingSince,
		Set<Decided> decided, Set<Session> cancelled) {

	/** Nothing seen yet. */
	public static final GuardHistory EMPTY = new GuardHistory(Map.of(), Map.of(), Set.of(), Set.of());

	public GuardHistory {
		queueSince = Map.copyOf(queueSince);
		blockingSince = Map.copyOf(blockingSince);
		decided = Set.copyOf(decided);
		cancelled = Set.copyOf(cancelled);
	}

	/** This history with the given sessions as the ones whose DDL was cancelled. */
	public GuardHistory withCancelled(Set<Session> sessions) {
		return new GuardHistory(this.queueSince, this.blockingSince, this.decided, sessions);
	}

	/**
	 * One session: pid and backend start, since pids are reused.
	 *
	 * @param backendStart null for a session whose activity was not read
	 */
	public record Session(int pid, Instant backendStart) {

		public static Session of(SessionFacts facts) {
			return new Session(facts.pid(), facts.backendStart());
		}

	}

	/** An action already decided about a session. */
	public record Decided(GuardAction action, Session session) {
	}

}

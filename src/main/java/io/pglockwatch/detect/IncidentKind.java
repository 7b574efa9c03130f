package io.pglockwatch.detect;

/** What kind of situation an incident is. */
public enum IncidentKind {

	/** A DDL waits for a strong relation lock with sessions queued behind it. */
	DDL_LOCK_QUEUE("ddl-lock-queue"),

	/** A root blocker with many sessions behind it, e.g. row locks; not explained by a DDL queue. */
	BLOCKING_CHAIN("blocking-chain"),

	/** The root blocker is idle in a transaction while it blocks someone. */
	IDLE_BLOCKER("idle-blocker"),

	/**
	 * On a hot standby, sessions queue behind a lock that the startup process holds while it replays WAL from the
	 * primary: the lock was taken by a transaction on the primary (ALTER TABLE, TRUNCATE, LOCK TABLE, a vacuum
	 * truncating a table) and is held here until that transaction's end is replayed.
	 */
	REPLAY_LOCK_QUEUE("replay-lock-queue");

	private final String label;

	IncidentKind(String label) {
		this.label = label;
	}

	/** The name in metrics, the API and alerts. */
	public String label() {
		return this.label;
	}

	public static IncidentKind of(String label) {
		for (IncidentKind kind : values()) {
			if (kind.label.equals(label)) {
				return kind;
			}
		}
		throw new IllegalArgumentException("unknown incident kind '" + label + "'; expected one of ddl-lock-queue, blocking-chain, idle-blocker");
	}

}

package io.pglockwatch.guard;

/**
 * What the guard (or an operator) did or would do. The labels are what {@code guard_action.action} stores and the
 * {@code action} label of {@code pglockwatch_guard_actions_total}: they must not change.
 */
public enum GuardAction {

	/** Cancel the statement of a waiting DDL that keeps a queue behind it. */
	CANCEL_DDL("cancel-ddl"),

	/** End the session of an idle-in-transaction root blocker. */
	TERMINATE_IDLE_BLOCKER("terminate-idle-blocker"),

	/** Report that a session whose DDL was cancelled still holds locks others wait for. */
	WATCH_ABORTED_TRANSACTION("watch-aborted-transaction");

	private final String label;

	GuardAction(String label) {
		this.label = label;
	}

	/** The name as stored, counted and shown. */
	public String label() {
		return this.label;
	}

	public static GuardAction of(String label) {
		for (GuardAction action : values()) {
			if (action.label.equals(label)) {
				return action;
			}
		}
		throw new IllegalArgumentException("unknown guard action '" + label
				+ "'; expected one of cancel-ddl, terminate-idle-blocker, watch-aborted-transaction");
	}

}

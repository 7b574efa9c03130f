package io.pglockwatch.guard;

/**
 * How a guard decision or an operator action ended. The labels are what {@code guard_action.outcome} stores and the
 * {@code outcome} label of {@code pglockwatch_guard_actions_total}: they must not change.
 */
public enum GuardOutcome {

	/** The DDL's statement was cancelled. */
	CANCELLED("cancelled"),

	/** The session was ended. */
	TERMINATED("terminated"),

	/** Dry-run: decided and recorded, nothing done. */
	DRY_RUN("dry-run"),

	/** The session's application or role is in {@code exclude-applications} / {@code exclude-users}. */
	EXCLUDED("excluded"),

	/** The session cannot or must not be signalled (prepared, ended, pg-lockwatch's own, not a client). */
	SKIPPED("skipped"),

	/** The pid now belongs to another session, or the session runs another statement. */
	CHANGED("changed"),

	/** The session no longer blocks anyone. */
	NOT_BLOCKING("not-blocking"),

	/** The session has ended. */
	GONE("gone"),

	/** The monitoring role may not signal the session (no pg_signal_backend, or a superuser's session). */
	NOT_PERMITTED("not-permitted"),

	/** The signal could not be sent or was not delivered. */
	FAILED("failed"),

	/** A session whose DDL was cancelled still holds locks others wait for. */
	STILL_BLOCKING("still-blocking");

	private final String label;

	GuardOutcome(String label) {
		this.label = label;
	}

	/** The name as stored, counted and shown. */
	public String label() {
		return this.label;
	}

	public static GuardOutcome of(String label) {
		for (GuardOutcome outcome : values()) {
			if (outcome.label.equals(label)) {
				return outcome;
			}
		}
		throw new IllegalArgumentException("unknown guard outcome '" + label + "'");
	}

}

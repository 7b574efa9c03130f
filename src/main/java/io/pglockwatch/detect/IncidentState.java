package io.pglockwatch.detect;

import java.util.Locale;

/** Lifecycle: open, perhaps escalated, then resolved. */
public enum IncidentState {

	OPEN, ESCALATED, RESOLVED;

	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

	public boolean isActive() {
		return this != RESOLVED;
	}

	public static IncidentState of(String label) {
		for (IncidentState state : values()) {
			if (state.label().equals(label)) {
				return state;
			}
		}
		throw new IllegalArgumentException("unknown incident state '" + label + "'; expected open, escalated or resolved");
	}

}

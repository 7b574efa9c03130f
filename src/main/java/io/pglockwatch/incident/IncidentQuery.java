package io.pglockwatch.incident;

import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;

/**
 * A search of the incident history for {@link IncidentStore#find(IncidentQuery)}: the filters that are not null
 * all apply, and at most {@code limit} incidents come back, newest opened first.
 *
 * @param state only incidents in this state, or null for any; {@code OPEN} means still active, so it matches
 * escalated incidents too
 * @param target only incidents of this target, or null for any
 * @param kind only incidents of this kind, or null for any
 * @param limit the most incidents to return, at least 1
 */
public record IncidentQuery(IncidentState state, String target, IncidentKind kind, int limit) {

	public IncidentQuery {
		if (limit < 1) {
			throw new IllegalArgumentException("limit must be at least 1, not " + limit);
		}
	}

	/** The newest {@code limit} incidents, whatever their state, target and kind. */
	public static IncidentQuery latest(int limit) {
		return new IncidentQuery(null, null, null, limit);
	}

}

package io.pglockwatch.incident;

import java.util.HashMap;
import java.util.Map;

import io.pglockwatch.detect.TimelinePoint;

/**
 * Writes incident timelines by the rule of {@link TimelineStretch}: a row where something changed, at least one a
 * minute, and the latest poll, instead of a row per poll (86,400 for an incident of a day at a poll a second).
 * Remembers the open run of each active incident of this process; a restarted process starts a new run with its
 * first poll, leaving the rows before it as they were. Not thread-safe: the recorder's writer thread alone uses it.
 */
final class TimelineWriter {

	private final IncidentStore store;

	private final Map<String, TimelineStretch> stretches = new HashMap<>();

	TimelineWriter(IncidentStore store) {
		this.store = store;
	}

	/** Records one poll of an active incident. */
	void write(String incidentId, TimelinePoint point) {
		TimelineStretch current = this.stretches.get(incidentId);
		TimelineStretch.Next next = (current != null) ? current.next(point) : TimelineStretch.first(point);
		switch (next.step()) {
			case APPEND -> this.store.appendTimeline(incidentId, point);
			case MOVE_LAST -> this.store.moveLastTimelinePoint(incidentId, point);
			case NONE -> {
			}
		}
		// only once the row is written: a write that failed is retried with the same decision
		this.stretches.put(incidentId, next.stretch());
	}

	/** Forgets a resolved incident: its last row is its last poll already. */
	void resolved(String incidentId) {
		this.stretches.remove(incidentId);
	}

}

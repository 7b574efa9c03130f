package io.pglockwatch.detect;

import io.pglockwatch.graph.LockWaitGraph;

/**
 * A change to an incident, for the store, the metrics and the alert channels.
 *
 * @param point this poll's timeline point (null on RESOLVED); the recorder keeps only the polls where something
 * changed as rows
 * @param peakGraph the graph of this poll when it set a new peak queue depth, else null
 */
public record IncidentEvent(Type type, Incident incident, TimelinePoint point, LockWaitGraph peakGraph) {

	public enum Type {

		/** The incident opened (it may already be critical: then an ESCALATED follows at once). */
		OPENED,

		/** Severity rose to critical. */
		ESCALATED,

		/** Another poll of an active incident. */
		UPDATED,

		/** The condition has been gone for {@code resolve-after}. */
		RESOLVED

	}

}

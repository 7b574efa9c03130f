package io.pglockwatch.incident;

import io.pglockwatch.detect.IncidentEvent;

/**
 * Told of every incident event after it was stored, in order, on the incident writer thread (never the poll
 * thread). Alert channels hook in here.
 */
@FunctionalInterface
public interface IncidentListener {

	void onIncidentEvent(IncidentEvent event);

}

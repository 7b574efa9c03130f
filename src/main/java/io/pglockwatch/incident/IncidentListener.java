package io.pglockwatch.incident;

import io.pglockwatch.cluster.Fence;
import io.pglockwatch.detect.IncidentEvent;

/**
 * Told of every incident event once, in order, on the incident events thread (never the poll thread), right after
 * its writes were queued: not after they were stored, so that a page never waits for the store (see
 * {@link StoreWriter}). Alert channels hook in here.
 */
@FunctionalInterface
public interface IncidentListener {

	/**
	 * @param peakGraph the incident's newest peak lock-wait graph as the store keeps it (JSON), null when none
	 * @param fence the leadership of the incident's shard the event was recorded under: the listener's own store
	 * writes for it carry this fence
	 */
	void onIncidentEvent(IncidentEvent event, String peakGraph, Fence fence);

}

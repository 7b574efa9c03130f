package io.pglockwatch.graph;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockSnapshot;

/**
 * Who waits on whom on one target at one instant: the immutable result of {@link #of(LockSnapshot)}.
 *
 * @param sessions every node that waits or blocks, by {@link SessionNode#id()}
 * @param edges every waiter -> blocker pair, each once
 * @param rootBlockers sessions that block and wait for nothing (or sit on a cycle), most blocked first
 * @param ddlQueues waiting DDL with a queue behind it, deepest first
 * @param cycles wait cycles (node ids), usually deadlocks about to be broken
 */
public record LockWaitGraph(String target, Instant takenAt, Map<Integer, SessionNode> sessions,
		List<WaitEdge> edges, List<RootBlocker> rootBlockers, List<DdlQueue> ddlQueues, List<List<Integer>> cycles) {

	/** Builds the graph from one snapshot; pure and linear in rows plus edges. */
	public static LockWaitGraph of(LockSnapshot snapshot) {
		return new LockWaitGraphBuilder(snapshot).build();
	}

	public static LockWaitGraph empty(String target, Instant takenAt) {
		return new LockWaitGraph(target, takenAt, Map.of(), List.of(), List.of(), List.of(), List.of());
	}

	/** Sessions waiting for a heavyweight lock. */
	public long lockWaiterCount() {
		return this.sessions.values().stream().filter(SessionNode::isWaiting).count();
	}

	/** Waiting sessions by requested mode (a leader with several waiting workers counts once per mode). */
	public Map<LockMode, Integer> waitersByMode() {
		Map<LockMode, Integer> counts = new EnumMap<>(LockMode.class);
		for (SessionNode node : this.sessions.values()) {
			node.waits().stream().map(LockWait::mode).distinct().forEach((mode) -> counts.merge(mode, 1, Integer::sum));
		}
		return counts;
	}

	/** The longest current lock wait, zero when nobody waits. */
	public Duration maxWait() {
		Duration max = Duration.ZERO;
		for (SessionNode node : this.sessions.values()) {
			for (LockWait wait : node.waits()) {
				if (wait.waited().compareTo(max) > 0) {
					max = wait.waited();
				}
			}
		}
		return max;
	}

	public List<WaitEdge> blockersOf(int id) {
		List<WaitEdge> result = new ArrayList<>();
		for (WaitEdge edge : this.edges) {
			if (edge.waiterPid() == id) {
				result.add(edge);
			}
		}
		return Collections.unmodifiableList(result);
	}

	/**
	 * The relation ({@code schema.table}) of the lock that {@code edge} is about, as the waiter asked for it; null
	 * when that lock is not on a relation (a transaction id, an advisory lock...).
	 */
	public String relation(WaitEdge edge) {
		SessionNode waiter = this.sessions.get(edge.waiterPid());
		if (waiter != null) {
			for (LockWait wait : waiter.waits()) {
				if (wait.description().equals(edge.object())) {
					return wait.relation();
				}
			}
		}
		return null;
	}

	/** The deepest DDL queue, or null. */
	public DdlQueue deepestDdlQueue() {
		return this.ddlQueues.isEmpty() ? null : this.ddlQueues.get(0);
	}

}

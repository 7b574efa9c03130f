package io.pglockwatch.dashboard;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pglockwatch.api.GraphView;

/**
 * What the dashboard draws of a graph: each DDL queue as root blocker -> waiting DDL -> queued sessions, then
 * every other root with the sessions it blocks. Long queues are collapsed to their first {@value #SHOWN}
 * sessions and a count, so 500 queued sessions stay readable and the page small.
 */
record GraphPicture(String target, Instant takenAt, int sessionCount, int edgeCount,
		List<Queue> ddlQueues, List<Chain> chains) {

	static final int SHOWN = 10;

	static GraphPicture of(GraphView graph) {
		Map<Integer, GraphView.Session> sessions = new HashMap<>();
		for (GraphView.Session s : graph.sessions()) {
			sessions.putIfAbsent(s.pid(), s);
		}
		Map<Integer, List<GraphView.Edge>> blockersOf = new HashMap<>();
		Map<Integer, List<GraphView.Edge>> waitersOf = new HashMap<>();
		for (GraphView.Edge e : graph.edges()) {
			blockersOf.computeIfAbsent(e.waiterPid(), (k) -> new ArrayList<>()).add(e);
			waitersOf.computeIfAbsent(e.blockerPid(), (k) -> new ArrayList<>()).add(e);
		}
		Set<Integer> drawnRoots = new HashSet<>();
		List<Queue> queues = new ArrayList<>();
		for (GraphView.Queue q : graph.ddlQueues()) {
			List<Node> roots = new ArrayList<>();
			for (int root : q.rootBlockerPids()) {
				drawnRoots.add(root);
				roots.add(Node.of(sessions.get(root), root, 0, null));
			}
			String ddlToRoot = blockersOf.getOrDefault(q.pid(), List.of())
				.stream()
				.map(GraphView.Edge::kind)
				.filter("hard"::equals)
				.findFirst()
				.orElse("soft");
			List<Node> queued = new ArrayList<>();
			for (GraphView.Queued item : q.queued()) {
				if (queued.size() == SHOWN) {
					break;
				}
				String kind = blockersOf.getOrDefault(item.pid(), List.of())
					.stream()
					.filter((e) -> e.blockerPid() == q.pid())
					.map(GraphView.Edge::kind)
					.findFirst()
					.orElse(item.distance() > 1 ? "transitive" : "soft");
				queued.add(Node.of(sessions.get(item.pid()), item.pid(), item.position(), kind));
			}
			queues.add(new Queue(roots, ddlToRoot, Node.of(sessions.get(q.pid()), q.pid(), 0, ddlToRoot), q.relation(),
					q.mode(), q.waitSeconds(), q.queueDepth(), queued, q.queueDepth() - queued.size()));
		}
		List<Chain> chains = new ArrayList<>();
		for (GraphView.Root root : graph.roots()) {
			if (drawnRoots.contains(root.pid())) {
				continue;
			}
			List<Node> waiters = new ArrayList<>();
			List<GraphView.Edge> direct = waitersOf.getOrDefault(root.pid(), List.of());
			for (GraphView.Edge e : direct) {
				if (waiters.size() == SHOWN) {
					break;
				}
				waiters.add(Node.of(sessions.get(e.waiterPid()), e.waiterPid(), 0, e.kind()));
			}
			chains.add(new Chain(Node.of(sessions.get(root.pid()), root.pid(), 0, null), root.blockedCount(), waiters,
					root.blockedCount() - waiters.size()));
		}
		return new GraphPicture(graph.target(), graph.takenAt(), graph.sessionCount(), graph.edgeCount(), queues, chains);
	}

	public boolean isEmpty() {
		return this.ddlQueues.isEmpty() && this.chains.isEmpty();
	}

	/** Root blocker(s) -> waiting DDL -> queue. */
	record Queue(List<Node> roots, String ddlEdgeKind, Node ddl, String relation, String mode, double waitSeconds,
			int depth, List<Node> queued, int more) {
	}

	/** A root blocker that no DDL queue explains, with the sessions waiting on it directly. */
	record Chain(Node root, int blockedCount, List<Node> waiters, int more) {
	}

	/**
	 * One session as drawn.
	 *
	 * @param position place in the wait queue of the DDL's relation (0 when not in it)
	 * @param edgeKind how it waits for the card to its left: hard, soft, or transitive (behind another waiter)
	 */
	record Node(int pid, String gid, String state, String applicationName, String user, Double transactionAgeSeconds,
			String query, String waitMode, Double waitSeconds, int position, String edgeKind) {

		static Node of(GraphView.Session s, int pid, int position, String edgeKind) {
			if (s == null) {
				return new Node(pid, null, null, null, null, null, null, null, null, position, edgeKind);
			}
			GraphView.Wait wait = s.waiting() == null || s.waiting().isEmpty() ? null : s.waiting().get(0);
			return new Node(pid, s.gid(), s.state(), s.applicationName(), s.user(), s.transactionAgeSeconds(), s.query(),
					wait == null ? null : wait.mode(), wait == null ? null : wait.waitSeconds(), position, edgeKind);
		}

		public String label() {
			if (this.gid != null) {
				return "prepared " + this.gid;
			}
			return "pid " + this.pid;
		}

	}

}

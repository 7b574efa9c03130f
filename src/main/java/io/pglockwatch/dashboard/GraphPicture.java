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
 * sessions and a count, so 500 queued sessions stay readable and the page small. The page stays small however
 * many queues and statements there are: the deepest {@value #DRAWN} queues and the {@value #DRAWN} biggest other
 * chains are drawn, the next {@value #LISTED} of each get a line, and statements are cut to
 * {@value Excerpt#IN_GRAPH} bytes as sent (see {@link Excerpt}) with a link to the whole one.
 *
 * @param otherQueues queues beyond the drawn ones, each told in one line
 * @param unlistedQueues how many queues are neither drawn nor listed
 */
record GraphPicture(String target, Instant takenAt, int sessionCount, int edgeCount, List<Queue> ddlQueues,
		List<Queue> otherQueues, int unlistedQueues, List<Chain> chains, List<Chain> otherChains, int unlistedChains) {

	static final int SHOWN = 10;

	static final int DRAWN = 5;

	static final int LISTED = 50;

	/**
	 * @param sessionsPath where one session's whole statement is, as {@code sessionsPath/pid}: the live target's or
	 * the incident's
	 */
	static GraphPicture of(GraphView graph, String sessionsPath) {
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
				roots.add(Node.of(sessions.get(root), root, 0, null, sessionsPath));
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
				queued.add(Node.of(sessions.get(item.pid()), item.pid(), item.position(), kind, sessionsPath));
			}
			Node ddl = Node.of(sessions.get(q.pid()), q.pid(), 0, ddlToRoot, sessionsPath);
			queues.add(new Queue(roots, ddlToRoot, ddl, q.relation(), q.mode(), q.waitSeconds(), q.queueDepth(), queued,
					q.queueDepth() - queued.size()));
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
				waiters.add(Node.of(sessions.get(e.waiterPid()), e.waiterPid(), 0, e.kind(), sessionsPath));
			}
			chains.add(new Chain(Node.of(sessions.get(root.pid()), root.pid(), 0, null, sessionsPath), root.blockedCount(),
					waiters, root.blockedCount() - waiters.size()));
		}
		// queues come deepest first and roots most blocking first, so the ones drawn are the ones that matter most
		return new GraphPicture(graph.target(), graph.takenAt(), graph.sessionCount(), graph.edgeCount(),
				head(queues, 0, DRAWN), head(queues, DRAWN, DRAWN + LISTED), Math.max(0, queues.size() - DRAWN - LISTED),
				head(chains, 0, DRAWN), head(chains, DRAWN, DRAWN + LISTED), Math.max(0, chains.size() - DRAWN - LISTED));
	}

	private static <T> List<T> head(List<T> list, int from, int to) {
		return List.copyOf(list.subList(Math.min(from, list.size()), Math.min(to, list.size())));
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
	 * @param query the start of its statement, null when there is none
	 * @param statementPath where its whole statement is when {@code query} was cut, else null
	 */
	record Node(int pid, String gid, String state, String applicationName, String user, Double transactionAgeSeconds,
			Excerpt query, String statementPath, String waitMode, Double waitSeconds, int position, String edgeKind) {

		static Node of(GraphView.Session s, int pid, int position, String edgeKind, String sessionsPath) {
			if (s == null) {
				return new Node(pid, null, null, null, null, null, null, null, null, null, position, edgeKind);
			}
			GraphView.Wait wait = s.waiting() == null || s.waiting().isEmpty() ? null : s.waiting().get(0);
			Excerpt query = Excerpt.of(s.query(), Excerpt.IN_GRAPH);
			String statementPath = (query != null && query.cut() && s.gid() == null) ? sessionsPath + "/" + pid : null;
			return new Node(pid, s.gid(), s.state(), s.applicationName(), s.user(), s.transactionAgeSeconds(), query,
					statementPath, wait == null ? null : wait.mode(), wait == null ? null : wait.waitSeconds(), position,
					edgeKind);
		}

		public String label() {
			if (this.gid != null) {
				return "prepared " + this.gid;
			}
			return "pid " + this.pid;
		}

	}

}

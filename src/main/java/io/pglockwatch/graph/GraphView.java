package io.pglockwatch.graph;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.pglockwatch.lock.SessionActivity;

/**
 * The JSON form of a {@link LockWaitGraph}. Prepared transactions have pid 0 (as in pg_blocking_pids) and
 * are told apart by {@code gid}; ages are seconds measured on the server's clock at {@code takenAt}.
 */
public record GraphView(String target, Instant takenAt, int sessionCount, int edgeCount, List<Session> sessions,
		List<Edge> edges, List<Root> roots, List<Queue> ddlQueues, List<List<Integer>> cycles) {

	public static GraphView of(LockWaitGraph graph) {
		Map<Integer, SessionNode> nodes = graph.sessions();
		List<Session> sessions = nodes.values().stream().map((n) -> Session.of(n, graph.takenAt())).toList();
		List<Edge> edges = graph.edges().stream().map((e) -> Edge.of(e, nodes)).toList();
		List<Root> roots = graph.rootBlockers().stream().map((r) -> Root.of(r, nodes.get(r.pid()), graph.takenAt())).toList();
		List<Queue> queues = graph.ddlQueues().stream().map((q) -> Queue.of(q, nodes)).toList();
		List<List<Integer>> cycles = graph.cycles().stream()
			.map((c) -> c.stream().map((id) -> nodes.get(id).pid()).toList())
			.toList();
		return new GraphView(graph.target(), graph.takenAt(), sessions.size(), edges.size(), sessions, edges, roots,
				queues, cycles);
	}

	static String kind(Enum<?> value) {
		return value.name().toLowerCase(Locale.ROOT);
	}

	public static Double seconds(Instant from, Instant to) {
		return (from == null || to == null) ? null : Math.max(0, Duration.between(from, to).toMillis() / 1000.0);
	}

	public record Session(int pid, String gid, String database, String user, String applicationName, String clientAddress,
			String backendType, String state, Instant backendStart, Instant xactStart, Instant queryStart,
			Instant stateChange, Double transactionAgeSeconds, String waitEventType, String waitEvent, String query,
			String commandTag, List<Integer> parallelWorkers, List<Wait> waiting) {

		public static Session of(SessionNode node, Instant takenAt) {
			List<Wait> waits = node.waits().stream().map(Wait::of).toList();
			if (node.prepared() != null) {
				var p = node.prepared();
				return new Session(0, p.gid(), p.database(), p.owner(), null, null, "prepared transaction", "prepared",
						null, p.prepared(), null, null, seconds(p.prepared(), takenAt), null, null, null, null,
						List.of(), waits);
			}
			SessionActivity a = node.activity();
			if (a == null) {
				return new Session(node.pid(), null, null, null, null, null, null, "gone", null, null, null, null, null,
						null, null, null, null, node.parallelWorkers(), waits);
			}
			return new Session(node.pid(), null, a.database(), a.user(), a.applicationName(), a.clientAddress(),
					a.backendType(), a.state(), a.backendStart(), a.transactionStart(), a.queryStart(), a.stateChange(),
					seconds(a.transactionStart(), takenAt), a.waitEventType(), a.waitEvent(), a.query(), a.commandTag(),
					node.parallelWorkers(), waits);
		}

	}

	public record Wait(String lockType, String mode, String object, String relation, double waitSeconds, int queuePosition) {

		static Wait of(LockWait wait) {
			return new Wait(wait.object().lockType(), wait.mode().pgName(), wait.description(), wait.relation(),
					wait.waited().toMillis() / 1000.0, wait.queuePosition());
		}

	}

	public record Edge(int waiterPid, int blockerPid, String blockerGid, String kind, String lockType, String mode,
			String relation, String object) {

		static Edge of(WaitEdge edge, Map<Integer, SessionNode> nodes) {
			SessionNode blocker = nodes.get(edge.blockerPid());
			String gid = (blocker != null && blocker.prepared() != null) ? blocker.prepared().gid() : null;
			String relation = null;
			SessionNode waiter = nodes.get(edge.waiterPid());
			if (waiter != null) {
				for (LockWait wait : waiter.waits()) {
					if (wait.description().equals(edge.object())) {
						relation = wait.relation(); // null for locks that are not on a relation
						break;
					}
				}
			}
			return new Edge(GraphView.pid(edge.waiterPid()), GraphView.pid(edge.blockerPid()), gid, GraphView.kind(edge.kind()), edge.lockType(),
					edge.mode().pgName(), relation, edge.object());
		}

	}

	public record Root(int pid, String gid, String state, String applicationName, String user, Double transactionAgeSeconds,
			int blockedCount, boolean onCycle) {

		static Root of(RootBlocker root, SessionNode node, Instant takenAt) {
			Session session = Session.of(node, takenAt);
			return new Root(session.pid(), session.gid(), session.state(), session.applicationName(), session.user(),
					session.transactionAgeSeconds(), root.blockedCount(), root.onCycle());
		}

	}

	public record Queue(int pid, String relation, String mode, double waitSeconds, int queueDepth,
			List<Integer> rootBlockerPids, List<Queued> queued) {

		static Queue of(DdlQueue queue, Map<Integer, SessionNode> nodes) {
			return new Queue(GraphView.pid(queue.pid()), queue.relation(), queue.mode().pgName(), queue.waited().toMillis() / 1000.0,
					queue.queueDepth(), queue.rootBlockerPids().stream().map(GraphView::pid).toList(),
					queue.queued().stream().map((q) -> new Queued(GraphView.pid(q.pid()), q.position(), q.distance())).toList());
		}

	}

	public record Queued(int pid, int position, int distance) {
	}

	public static int pid(int nodeId) {
		return Math.max(0, nodeId);
	}

}

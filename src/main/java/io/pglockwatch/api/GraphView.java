package io.pglockwatch.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

import io.pglockwatch.graph.DdlQueue;
import io.pglockwatch.graph.LockWait;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.RootBlocker;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.graph.WaitEdge;
import io.pglockwatch.incident.PeakGraph;
import io.pglockwatch.lock.PreparedTransaction;
import io.pglockwatch.lock.SessionActivity;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The JSON form of a lock-wait graph in the API: the live graph of {@code /api/v1/targets/{name}/graph} and an
 * incident's {@code graphAtPeak}, documented in docs/api.md. Prepared transactions have pid 0 (as in
 * pg_blocking_pids) and are told apart by {@code gid}; ages are seconds measured on the server's clock at
 * {@code takenAt}.
 *
 * <p>Its own type rather than the stored {@link PeakGraph}, so that the API and the incident history's schema can
 * each change without breaking the other: only the mapping from a {@link PeakGraph} has to follow both.
 */
@Schema(description = "A lock-wait graph: who waits for whom on a target (docs/api.md#get-apiv1targetsnamegraph)")
public record GraphView(String target, Instant takenAt, int sessionCount, int edgeCount, List<Session> sessions,
		List<Edge> edges, List<Root> roots, List<Queue> ddlQueues, List<List<Integer>> cycles) {

	/** The view of a graph just read from a target. */
	public static GraphView of(LockWaitGraph graph) {
		List<Session> sessions = graph.sessions().values().stream().map((n) -> Session.of(n, graph.takenAt())).toList();
		List<Edge> edges = graph.edges().stream().map((e) -> Edge.of(e, graph)).toList();
		List<Root> roots = graph.rootBlockers()
			.stream()
			.map((r) -> Root.of(r, Session.of(graph.sessions().get(r.pid()), graph.takenAt())))
			.toList();
		List<Queue> queues = graph.ddlQueues().stream().map(Queue::of).toList();
		List<List<Integer>> cycles = graph.cycles().stream().map((c) -> c.stream().map(SessionNode::pidOf).toList()).toList();
		return new GraphView(graph.target(), graph.takenAt(), sessions.size(), edges.size(), sessions, edges, roots,
				queues, cycles);
	}

	/** The view of an incident's stored graph at peak. */
	public static GraphView of(PeakGraph graph) {
		return new GraphView(graph.target(), graph.takenAt(), graph.sessionCount(), graph.edgeCount(),
				graph.sessions().stream().map(Session::of).toList(), graph.edges().stream().map(Edge::of).toList(),
				graph.roots().stream().map(Root::of).toList(), graph.ddlQueues().stream().map(Queue::of).toList(),
				graph.cycles());
	}

	private static double seconds(Duration duration) {
		return duration.toMillis() / 1000.0;
	}

	private static Double seconds(Instant from, Instant to) {
		return (from == null || to == null) ? null : Math.max(0, seconds(Duration.between(from, to)));
	}

	/** A session that waits or blocks. */
	@Schema(name = "GraphSession", description = "A session that waits for a lock or blocks one that does; pid 0 is a "
			+ "prepared transaction, told apart by gid")
	public record Session(int pid, String gid, String database, String user, String applicationName, String clientAddress,
			String backendType, String state, Instant backendStart, Instant xactStart, Instant queryStart,
			Instant stateChange, Double transactionAgeSeconds, String waitEventType, String waitEvent, String query,
			String commandTag, List<Integer> parallelWorkers, List<Wait> waiting) {

		static Session of(SessionNode node, Instant takenAt) {
			List<Wait> waits = node.waits().stream().map(Wait::of).toList();
			PreparedTransaction p = node.prepared();
			if (p != null) {
				return new Session(0, p.gid(), p.database(), p.owner(), null, null, "prepared transaction", "prepared",
						null, p.prepared(), null, null, seconds(p.prepared(), takenAt), null, null, null, null,
						List.of(), waits);
			}
			SessionActivity a = node.activity();
			if (a == null) {
				// it ended between the two reads, or the monitor may not see it (no pg_monitor)
				return new Session(node.pid(), null, null, null, null, null, null, "gone", null, null, null, null, null,
						null, null, null, null, node.parallelWorkers(), waits);
			}
			return new Session(node.pid(), null, a.database(), a.user(), a.applicationName(), a.clientAddress(),
					a.backendType(), a.state(), a.backendStart(), a.transactionStart(), a.queryStart(), a.stateChange(),
					seconds(a.transactionStart(), takenAt), a.waitEventType(), a.waitEvent(), a.query(), a.commandTag(),
					node.parallelWorkers(), waits);
		}

		static Session of(PeakGraph.Session s) {
			return new Session(s.pid(), s.gid(), s.database(), s.user(), s.applicationName(), s.clientAddress(),
					s.backendType(), s.state(), s.backendStart(), s.xactStart(), s.queryStart(), s.stateChange(),
					s.transactionAgeSeconds(), s.waitEventType(), s.waitEvent(), s.query(), s.commandTag(),
					s.parallelWorkers(), s.waiting().stream().map(Wait::of).toList());
		}

	}

	/** A lock a session waits for. */
	@Schema(description = "A lock a session waits for")
	public record Wait(String lockType, String mode, String object, String relation, double waitSeconds, int queuePosition) {

		static Wait of(LockWait wait) {
			return new Wait(wait.object().lockType(), wait.mode().pgName(), wait.description(), wait.relation(),
					seconds(wait.waited()), wait.queuePosition());
		}

		static Wait of(PeakGraph.Wait w) {
			return new Wait(w.lockType(), w.mode(), w.object(), w.relation(), w.waitSeconds(), w.queuePosition());
		}

	}

	/** A waiter and one session it waits for. */
	@Schema(description = "A waiter and one session it waits for: kind hard (holds a conflicting lock) or soft (queued "
			+ "ahead with a conflicting request)")
	public record Edge(int waiterPid, int blockerPid, String blockerGid, String kind, String lockType, String mode,
			String relation, String object) {

		static Edge of(WaitEdge edge, LockWaitGraph graph) {
			SessionNode blocker = graph.sessions().get(edge.blockerPid());
			return new Edge(SessionNode.pidOf(edge.waiterPid()), SessionNode.pidOf(edge.blockerPid()),
					(blocker != null) ? blocker.gid() : null, edge.kind().name().toLowerCase(Locale.ROOT),
					edge.lockType(), edge.mode().pgName(), graph.relation(edge), edge.object());
		}

		static Edge of(PeakGraph.Edge e) {
			return new Edge(e.waiterPid(), e.blockerPid(), e.blockerGid(), e.kind(), e.lockType(), e.mode(), e.relation(),
					e.object());
		}

	}

	/** A root blocker: blocks others and waits for nothing (or sits on a cycle). */
	@Schema(description = "A root blocker: blocks others and waits for nothing (or sits on a cycle)")
	public record Root(int pid, String gid, String state, String applicationName, String user, Double transactionAgeSeconds,
			int blockedCount, boolean onCycle) {

		static Root of(RootBlocker root, Session session) {
			return new Root(session.pid(), session.gid(), session.state(), session.applicationName(), session.user(),
					session.transactionAgeSeconds(), root.blockedCount(), root.onCycle());
		}

		static Root of(PeakGraph.Root r) {
			return new Root(r.pid(), r.gid(), r.state(), r.applicationName(), r.user(), r.transactionAgeSeconds(),
					r.blockedCount(), r.onCycle());
		}

	}

	/** A waiting DDL and the sessions queued behind it. */
	@Schema(description = "A waiting DDL and the sessions queued behind it")
	public record Queue(int pid, String relation, String mode, double waitSeconds, int queueDepth,
			List<Integer> rootBlockerPids, List<Queued> queued) {

		static Queue of(DdlQueue queue) {
			return new Queue(SessionNode.pidOf(queue.pid()), queue.relation(), queue.mode().pgName(),
					seconds(queue.waited()), queue.queueDepth(),
					queue.rootBlockerPids().stream().map(SessionNode::pidOf).toList(),
					queue.queued().stream().map((q) -> new Queued(SessionNode.pidOf(q.pid()), q.position(), q.distance())).toList());
		}

		static Queue of(PeakGraph.Queue q) {
			return new Queue(q.pid(), q.relation(), q.mode(), q.waitSeconds(), q.queueDepth(), q.rootBlockerPids(),
					q.queued().stream().map((i) -> new Queued(i.pid(), i.position(), i.distance())).toList());
		}

	}

	/** A session behind a waiting DDL. */
	@Schema(description = "A session queued behind a waiting DDL")
	public record Queued(int pid, int position, int distance) {
	}

}

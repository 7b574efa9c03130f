package io.pglockwatch.api;

import java.time.Instant;
import java.util.List;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.incident.PeakGraph;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The JSON form of a lock-wait graph in the API: the live graph of {@code /api/v1/targets/{name}/graph} and an
 * incident's {@code graphAtPeak}, documented in docs/api.md. Prepared transactions have pid 0 (as in
 * pg_blocking_pids) and are told apart by {@code gid}; ages are seconds measured on the server's clock at
 * {@code takenAt}.
 *
 * <p>Its own type rather than the stored {@link PeakGraph}, so that the API and the incident history's schema can
 * each change without breaking the other: only the mapping from a {@link PeakGraph} has to follow both. A live graph
 * goes through {@link PeakGraph#of(LockWaitGraph)} too, which holds the one mapping from the graph's sessions.
 */
@Schema(description = "A lock-wait graph: who waits for whom on a target (docs/api.md#get-apiv1targetsnamegraph)")
public record GraphView(String target, Instant takenAt, int sessionCount, int edgeCount, List<Session> sessions,
		List<Edge> edges, List<Root> roots, List<Queue> ddlQueues, List<List<Integer>> cycles) {

	/**
	 * The view of a graph just read from a target: through its stored form, so that the live graph and an incident's
	 * graph at peak are one mapping and cannot drift apart (per API request, never per poll).
	 */
	public static GraphView of(LockWaitGraph graph) {
		return of(PeakGraph.of(graph));
	}

	/** The view of an incident's stored graph at peak. */
	public static GraphView of(PeakGraph graph) {
		return new GraphView(graph.target(), graph.takenAt(), graph.sessionCount(), graph.edgeCount(),
				graph.sessions().stream().map(Session::of).toList(), graph.edges().stream().map(Edge::of).toList(),
				graph.roots().stream().map(Root::of).toList(), graph.ddlQueues().stream().map(Queue::of).toList(),
				graph.cycles());
	}

	/** A session that waits or blocks. */
	@Schema(name = "GraphSession", description = "A session that waits for a lock or blocks one that does; pid 0 is a "
			+ "prepared transaction, told apart by gid")
	public record Session(int pid, String gid, String database, String user, String applicationName, String clientAddress,
			String backendType, String state, Instant backendStart, Instant xactStart, Instant queryStart,
			Instant stateChange, Double transactionAgeSeconds, String waitEventType, String waitEvent, String query,
			String commandTag, List<Integer> parallelWorkers, List<Wait> waiting) {

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

		static Wait of(PeakGraph.Wait w) {
			return new Wait(w.lockType(), w.mode(), w.object(), w.relation(), w.waitSeconds(), w.queuePosition());
		}

	}

	/** A waiter and one session it waits for. */
	@Schema(description = "A waiter and one session it waits for: kind hard (holds a conflicting lock) or soft (queued "
			+ "ahead with a conflicting request)")
	public record Edge(int waiterPid, int blockerPid, String blockerGid, String kind, String lockType, String mode,
			String relation, String object) {

		static Edge of(PeakGraph.Edge e) {
			return new Edge(e.waiterPid(), e.blockerPid(), e.blockerGid(), e.kind(), e.lockType(), e.mode(), e.relation(),
					e.object());
		}

	}

	/** A root blocker: blocks others and waits for nothing (or sits on a cycle). */
	@Schema(description = "A root blocker: blocks others and waits for nothing (or sits on a cycle)")
	public record Root(int pid, String gid, String state, String applicationName, String user, Double transactionAgeSeconds,
			int blockedCount, boolean onCycle) {

		static Root of(PeakGraph.Root r) {
			return new Root(r.pid(), r.gid(), r.state(), r.applicationName(), r.user(), r.transactionAgeSeconds(),
					r.blockedCount(), r.onCycle());
		}

	}

	/** A waiting DDL and the sessions queued behind it. */
	@Schema(description = "A waiting DDL and the sessions queued behind it")
	public record Queue(int pid, String relation, String mode, double waitSeconds, int queueDepth,
			List<Integer> rootBlockerPids, List<Queued> queued) {

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

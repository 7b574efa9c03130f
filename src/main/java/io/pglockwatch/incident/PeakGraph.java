package io.pglockwatch.incident;

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
import io.pglockwatch.lock.PreparedTransaction;
import io.pglockwatch.lock.SessionActivity;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The lock-wait graph at an incident's peak as the incident history keeps it: JSON in {@code incident.peak_graph},
 * written by {@link IncidentRecorder} and read back for the incident page, the API and alerts.
 *
 * <p>Stored rows outlive the code that wrote them, so the form carries a {@code schemaVersion} of its own, apart from
 * the API's JSON: version {@value #SCHEMA_VERSION} has the fields below, which are also the fields of the API's graph
 * (so a row stored before versions existed, with no {@code schemaVersion}, has the same shape and is read as version
 * 1). A change that old code could not read, such as a renamed or retyped field, takes a new version; adding a field
 * does not (unknown fields are ignored, missing ones read as absent). {@link #read} refuses a version it does not
 * know rather than misreading it.
 *
 * @param schemaVersion the version of this form, {@value #SCHEMA_VERSION} when written by this code
 */
public record PeakGraph(int schemaVersion, String target, Instant takenAt, int sessionCount, int edgeCount,
		List<Session> sessions, List<Edge> edges, List<Root> roots, List<Queue> ddlQueues, List<List<Integer>> cycles) {

	/** The version this code writes, and the only one it reads. */
	public static final int SCHEMA_VERSION = 1;

	public PeakGraph {
		// a row with a list left out reads as empty, not as a graph that breaks whoever walks it
		sessions = orEmpty(sessions);
		edges = orEmpty(edges);
		roots = orEmpty(roots);
		ddlQueues = orEmpty(ddlQueues);
		cycles = orEmpty(cycles);
	}

	/** The stored form of {@code graph}, at the current schema version. */
	public static PeakGraph of(LockWaitGraph graph) {
		Instant takenAt = graph.takenAt();
		List<Session> sessions = graph.sessions().values().stream().map((n) -> Session.of(n, takenAt)).toList();
		List<Edge> edges = graph.edges().stream().map((e) -> Edge.of(e, graph)).toList();
		List<Root> roots = graph.rootBlockers()
			.stream()
			.map((r) -> Root.of(r, Session.of(graph.sessions().get(r.pid()), takenAt)))
			.toList();
		List<Queue> queues = graph.ddlQueues().stream().map(Queue::of).toList();
		List<List<Integer>> cycles = graph.cycles().stream().map((c) -> c.stream().map(SessionNode::pidOf).toList()).toList();
		return new PeakGraph(SCHEMA_VERSION, graph.target(), takenAt, sessions.size(), edges.size(), sessions, edges,
				roots, queues, cycles);
	}

	/**
	 * Reads a stored graph; one without a {@code schemaVersion} is version 1.
	 * @throws UnreadableException when it is not JSON of a graph, or of a version this code does not know
	 */
	public static PeakGraph read(JsonMapper json, String stored) {
		try {
			JsonNode tree = json.readTree(stored);
			if (!(tree instanceof ObjectNode graph)) {
				throw new UnreadableException("the stored graph at peak is not a JSON object");
			}
			JsonNode version = graph.get("schemaVersion");
			if (version == null || version.isNull()) {
				graph.put("schemaVersion", 1);
			}
			else if (!version.isInt() || version.intValue() != SCHEMA_VERSION) {
				throw new UnreadableException("the graph at peak was stored with schema version " + version
						+ ", and this version of pg-lockwatch reads version " + SCHEMA_VERSION + " only");
			}
			// a field left out reads as absent (0, null or empty), as a partial row did when it was served verbatim
			return json.readerFor(PeakGraph.class)
				.without(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
				.readValue(graph);
		}
		catch (JacksonException ex) {
			throw new UnreadableException("the stored graph at peak is not readable: " + ex.getOriginalMessage());
		}
	}

	private static <T> List<T> orEmpty(List<T> list) {
		return (list != null) ? list : List.of();
	}

	private static double seconds(Duration duration) {
		return duration.toMillis() / 1000.0;
	}

	private static Double seconds(Instant from, Instant to) {
		return (from == null || to == null) ? null : Math.max(0, seconds(Duration.between(from, to)));
	}

	/** A stored graph that this code cannot read; the message says why, for people. */
	public static final class UnreadableException extends RuntimeException {

		UnreadableException(String message) {
			super(message);
		}

	}

	/** A session that waits or blocks; pid 0 and a gid for a prepared transaction. */
	public record Session(int pid, String gid, String database, String user, String applicationName, String clientAddress,
			String backendType, String state, Instant backendStart, Instant xactStart, Instant queryStart,
			Instant stateChange, Double transactionAgeSeconds, String waitEventType, String waitEvent, String query,
			String commandTag, List<Integer> parallelWorkers, List<Wait> waiting) {

		public Session {
			parallelWorkers = orEmpty(parallelWorkers);
			waiting = orEmpty(waiting);
		}

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

	}

	/** A lock a session waits for. */
	public record Wait(String lockType, String mode, String object, String relation, double waitSeconds, int queuePosition) {

		static Wait of(LockWait wait) {
			return new Wait(wait.object().lockType(), wait.mode().pgName(), wait.description(), wait.relation(),
					seconds(wait.waited()), wait.queuePosition());
		}

	}

	/** A waiter and one session it waits for; {@code kind} is hard or soft. */
	public record Edge(int waiterPid, int blockerPid, String blockerGid, String kind, String lockType, String mode,
			String relation, String object) {

		static Edge of(WaitEdge edge, LockWaitGraph graph) {
			SessionNode blocker = graph.sessions().get(edge.blockerPid());
			return new Edge(SessionNode.pidOf(edge.waiterPid()), SessionNode.pidOf(edge.blockerPid()),
					(blocker != null) ? blocker.gid() : null, edge.kind().name().toLowerCase(Locale.ROOT),
					edge.lockType(), edge.mode().pgName(), graph.relation(edge), edge.object());
		}

	}

	/** A root blocker. */
	public record Root(int pid, String gid, String state, String applicationName, String user, Double transactionAgeSeconds,
			int blockedCount, boolean onCycle) {

		static Root of(RootBlocker root, Session session) {
			return new Root(session.pid(), session.gid(), session.state(), session.applicationName(), session.user(),
					session.transactionAgeSeconds(), root.blockedCount(), root.onCycle());
		}

	}

	/** A waiting DDL and the sessions queued behind it. */
	public record Queue(int pid, String relation, String mode, double waitSeconds, int queueDepth,
			List<Integer> rootBlockerPids, List<Queued> queued) {

		public Queue {
			rootBlockerPids = orEmpty(rootBlockerPids);
			queued = orEmpty(queued);
		}

		static Queue of(DdlQueue queue) {
			return new Queue(SessionNode.pidOf(queue.pid()), queue.relation(), queue.mode().pgName(),
					seconds(queue.waited()), queue.queueDepth(),
					queue.rootBlockerPids().stream().map(SessionNode::pidOf).toList(),
					queue.queued().stream().map((q) -> new Queued(SessionNode.pidOf(q.pid()), q.position(), q.distance())).toList());
		}

	}

	/** A session behind a waiting DDL. */
	public record Queued(int pid, int position, int distance) {
	}

}

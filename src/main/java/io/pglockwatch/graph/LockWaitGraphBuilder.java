package io.pglockwatch.graph;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockObject;
import io.pglockwatch.lock.LockRow;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.lock.PreparedTransaction;
import io.pglockwatch.lock.RelationName;
import io.pglockwatch.lock.SessionActivity;

/**
 * Turns lock rows into edges the way PostgreSQL's pg_blocking_pids() does (lockfuncs.c): a waiter is blocked
 * hard by every other lock group that holds a conflicting mode on the object, and soft by every group
 * ahead of it in the object's wait queue that requests a conflicting mode. Work is linear in rows plus
 * edges: holders and earlier waiters are kept in per-mode buckets, so a waiter only visits the modes that
 * conflict with its own.
 */
final class LockWaitGraphBuilder {

	private static final LockMode[] MODES = LockMode.values();

	private final LockSnapshot snapshot;

	private final Map<String, Integer> preparedIds = new HashMap<>();

	// the vxid of prepared transaction node -1, -2, ...
	private final List<String> preparedVxids = new ArrayList<>();

	private final Map<Integer, List<Integer>> workersByLeader = new TreeMap<>();

	private final Map<Integer, List<LockWait>> waitsByNode = new HashMap<>();

	// adjacency, waiter -> blockers and blocker -> waiters, each pair once
	private final Map<Integer, LinkedHashMap<Integer, WaitEdge>> out = new LinkedHashMap<>();

	private final Map<Integer, List<Integer>> in = new HashMap<>();

	LockWaitGraphBuilder(LockSnapshot snapshot) {
		this.snapshot = snapshot;
	}

	LockWaitGraph build() {
		Map<LockObject, ObjectQueue> objects = groupByObject();
		for (ObjectQueue queue : objects.values()) {
			queue.addEdges();
		}
		// nodes in order of appearance: each waiter, then its blockers
		Map<Integer, SessionNode> sessions = new LinkedHashMap<>();
		int edgeCount = 0;
		for (Map.Entry<Integer, LinkedHashMap<Integer, WaitEdge>> entry : this.out.entrySet()) {
			addNode(sessions, entry.getKey());
			for (Integer blocker : entry.getValue().keySet()) {
				addNode(sessions, blocker);
			}
			edgeCount += entry.getValue().size();
		}
		List<WaitEdge> edges = new ArrayList<>(edgeCount);
		for (LinkedHashMap<Integer, WaitEdge> blockers : this.out.values()) {
			for (WaitEdge edge : blockers.values()) {
				edges.add(edge);
			}
		}

		Components components = new Components(sessions);
		List<RootBlocker> roots = components.roots();
		List<DdlQueue> ddlQueues = components.ddlQueues();
		return new LockWaitGraph(this.snapshot.target(), this.snapshot.takenAt(), Collections.unmodifiableMap(sessions),
				Collections.unmodifiableList(edges), roots, ddlQueues, components.cycles());
	}

	private Map<LockObject, ObjectQueue> groupByObject() {
		Map<LockObject, ObjectQueue> objects = new LinkedHashMap<>();
		for (LockRow row : this.snapshot.locks()) {
			ObjectQueue queue = objects.computeIfAbsent(row.object(), ObjectQueue::new);
			int node = nodeOf(row);
			if (row.granted()) {
				queue.holdMasks.merge(node, row.mode().bit(), (a, b) -> a | b);
			}
			else {
				queue.waiters.add(new Waiter(node, row.pid(), row.mode(), row.waitStart()));
			}
		}
		return objects;
	}

	private int nodeOf(LockRow row) {
		if (row.pid() == 0) {
			return this.preparedIds.computeIfAbsent(row.virtualTransaction(), (vxid) -> {
				this.preparedVxids.add(vxid);
				return -this.preparedVxids.size();
			});
		}
		SessionActivity activity = this.snapshot.sessions().get(row.pid());
		if (activity != null && activity.leaderPid() != null && activity.leaderPid() != row.pid()) {
			List<Integer> workers = this.workersByLeader.computeIfAbsent(activity.leaderPid(), (k) -> new ArrayList<>());
			if (!workers.contains(row.pid())) {
				workers.add(row.pid());
			}
			return activity.leaderPid();
		}
		return row.pid();
	}

	private void addNode(Map<Integer, SessionNode> sessions, Integer id) {
		if (!sessions.containsKey(id)) {
			sessions.put(id, node(id));
		}
	}

	private SessionNode node(int id) {
		if (id < 0) {
			String vxid = this.preparedVxids.get(-id - 1);
			PreparedTransaction prepared = this.snapshot.prepared().get(vxid);
			if (prepared == null) {
				prepared = new PreparedTransaction(vxid, null, null, null, null);
			}
			return new SessionNode(id, null, prepared, List.of(), List.of());
		}
		return new SessionNode(id, this.snapshot.sessions().get(id), null,
				List.copyOf(this.workersByLeader.getOrDefault(id, List.of())),
				List.copyOf(this.waitsByNode.getOrDefault(id, List.of())));
	}

	private void addEdge(int waiter, int blocker, EdgeKind kind, LockObject object, LockMode mode,
			String description) {
		LinkedHashMap<Integer, WaitEdge> blockers = this.out.computeIfAbsent(waiter, (k) -> new LinkedHashMap<>());
		WaitEdge existing = blockers.get(blocker);
		if (existing == null) {
			blockers.put(blocker, new WaitEdge(waiter, blocker, kind, object.lockType(), mode, description));
			this.in.computeIfAbsent(blocker, (k) -> new ArrayList<>()).add(waiter);
		}
		else if (existing.kind() == EdgeKind.SOFT && kind == EdgeKind.HARD) {
			// a leader whose workers both hold and wait: holding is what pg_blocking_pids checks first
			blockers.put(blocker, new WaitEdge(waiter, blocker, kind, object.lockType(), mode, description));
		}
	}

	private record Waiter(int node, int pid, LockMode mode, Instant waitStart) {
	}

	/** The holders and the wait queue of one lock object. */
	private final class ObjectQueue {

		final LockObject object;

		final Map<Integer, Integer> holdMasks = new LinkedHashMap<>();

		final List<Waiter> waiters = new ArrayList<>();

		ObjectQueue(LockObject object) {
			this.object = object;
		}

		void addEdges() {
			if (this.waiters.isEmpty()) {
				return;
			}
			// pg_locks has no queue order; waitstart gives it (null = just started waiting, so last)
			this.waiters.sort(Comparator.comparing(Waiter::waitStart, Comparator.nullsLast(Comparator.naturalOrder()))
				.thenComparingInt(Waiter::pid));
			String relation = relationName();
			String description = describe(relation);
			List<List<Integer>> holdersByMode = bucketHolders();
			List<List<Integer>> earlierByMode = new ArrayList<>(MODES.length);
			for (int i = 0; i < MODES.length; i++) {
				earlierByMode.add(new ArrayList<>());
			}
			int position = 0;
			for (Waiter waiter : this.waiters) {
				position++;
				Duration waited = waiter.waitStart() == null ? Duration.ZERO
						: Duration.between(waiter.waitStart(), LockWaitGraphBuilder.this.snapshot.takenAt());
				if (waited.isNegative()) {
					waited = Duration.ZERO;
				}
				LockWaitGraphBuilder.this.waitsByNode.computeIfAbsent(waiter.node(), (k) -> new ArrayList<>())
					.add(new LockWait(this.object, description, relation, waiter.mode(), waiter.waitStart(), waited,
							position));
				Set<Integer> reported = LockWaitGraphBuilder.this.snapshot.reportedBlockers().get(waiter.pid());
				if (reported != null) {
					addReportedEdges(waiter, reported, description);
				}
				else {
					addComputedEdges(waiter, holdersByMode, earlierByMode, description);
				}
				earlierByMode.get(waiter.mode().ordinal()).add(waiter.node());
			}
		}

		private void addComputedEdges(Waiter waiter, List<List<Integer>> holdersByMode,
				List<List<Integer>> earlierByMode, String description) {
			int conflicts = waiter.mode().conflictMask();
			for (LockMode held : MODES) {
				if ((conflicts & held.bit()) != 0) {
					for (int holder : holdersByMode.get(held.ordinal())) {
						if (holder != waiter.node()) {
							addEdge(waiter.node(), holder, EdgeKind.HARD, this.object, waiter.mode(), description);
						}
					}
				}
			}
			for (LockMode requested : MODES) {
				if ((conflicts & requested.bit()) != 0) {
					for (int earlier : earlierByMode.get(requested.ordinal())) {
						if (earlier != waiter.node()) {
							addEdge(waiter.node(), earlier, EdgeKind.SOFT, this.object, waiter.mode(), description);
						}
					}
				}
			}
		}

		// the server told us who blocks this waiter (its queue place is not in pg_locks); we only classify
		private void addReportedEdges(Waiter waiter, Set<Integer> reported, String description) {
			for (int blockerPid : reported) {
				List<Integer> candidates = new ArrayList<>();
				if (blockerPid == 0) {
					this.holdMasks.keySet().stream().filter((id) -> id < 0).forEach(candidates::add);
				}
				else {
					candidates.add(blockerPid);
				}
				for (int blocker : candidates) {
					if (blocker == waiter.node()) {
						continue;
					}
					int held = this.holdMasks.getOrDefault(blocker, 0);
					EdgeKind kind = waiter.mode().conflictsWithAny(held) ? EdgeKind.HARD : EdgeKind.SOFT;
					addEdge(waiter.node(), blocker, kind, this.object, waiter.mode(), description);
				}
			}
		}

		private List<List<Integer>> bucketHolders() {
			List<List<Integer>> byMode = new ArrayList<>(MODES.length);
			for (int i = 0; i < MODES.length; i++) {
				byMode.add(new ArrayList<>());
			}
			this.holdMasks.forEach((node, mask) -> {
				for (LockMode mode : MODES) {
					if ((mask & mode.bit()) != 0) {
						byMode.get(mode.ordinal()).add(node);
					}
				}
			});
			return byMode;
		}

		private String relationName() {
			RelationName name = LockWaitGraphBuilder.this.snapshot.relationName(this.object);
			return name == null ? null : name.name();
		}

		private String describe(String relation) {
			LockObject o = this.object;
			return switch (o.lockType()) {
				case "relation" -> relation;
				case "tuple" -> "tuple " + relation + " (" + o.page() + "," + o.tuple() + ")";
				case "page" -> "page " + relation + " " + o.page();
				case "extend" -> "extend " + relation;
				case "transactionid" -> "transactionid " + o.transactionId();
				case "virtualxid" -> "virtualxid " + o.virtualXid();
				case "advisory" -> "advisory " + advisoryKey(o);
				default -> o.lockType() + " " + Arrays.asList(o.database(), o.classId(), o.objId(), o.objSubId());
			};
		}

		// pg_advisory_lock(bigint) shows the key split in classid (high) and objid (low), objsubid 1;
		// the two-int form shows them as given, objsubid 2
		private String advisoryKey(LockObject o) {
			if (o.objSubId() != null && o.objSubId() == 1 && o.classId() != null && o.objId() != null) {
				return String.valueOf((o.classId() << 32) | o.objId());
			}
			return o.classId() + "," + o.objId();
		}

	}

	/**
	 * Strongly connected components (iterative Tarjan) over waiter -> blocker edges. Tarjan emits a component
	 * only after every component it reaches, so one pass in emission order can carry facts from blockers
	 * to their waiters: which roots a session ultimately waits for, and whether a DDL waits ahead of it.
	 * Nodes are numbered densely in the order of the sessions map and the edges are copied once into int arrays
	 * (in the order they were added): these passes visit every edge several times, and with boxed maps of node
	 * ids they were half the graph's cost (bench/graph-jmh.sh).
	 */
	private final class Components {

		private static final int[] NONE = new int[0];

		// node id and node by dense index
		private final int[] ids;

		private final SessionNode[] nodes;

		// dense blockers of each node, dense waiters on each node
		private final int[][] successors;

		private final int[][] waiters;

		// members by dense index in ascending node id, in Tarjan's emission order
		private final List<int[]> sccs = new ArrayList<>();

		private final int[] sccOf;

		// the other components each one waits on, in order of first appearance
		private final int[][] sccSuccessors;

		// behind()'s result: visited nodes in order, and their distances; valid until its next call
		private final int[] order;

		private final int[] distance;

		private final int[] seen;

		private int generation;

		Components(Map<Integer, SessionNode> sessions) {
			int n = sessions.size();
			this.ids = new int[n];
			this.nodes = new SessionNode[n];
			Map<Integer, Integer> dense = new HashMap<>(Math.max(16, n * 2));
			int next = 0;
			for (Map.Entry<Integer, SessionNode> entry : sessions.entrySet()) {
				this.ids[next] = entry.getKey();
				this.nodes[next] = entry.getValue();
				dense.put(entry.getKey(), next);
				next++;
			}
			this.successors = new int[n][];
			this.waiters = new int[n][];
			Arrays.fill(this.successors, NONE);
			Arrays.fill(this.waiters, NONE);
			for (Map.Entry<Integer, LinkedHashMap<Integer, WaitEdge>> entry : LockWaitGraphBuilder.this.out.entrySet()) {
				this.successors[dense.get(entry.getKey())] = dense(entry.getValue().keySet(), dense);
			}
			for (Map.Entry<Integer, List<Integer>> entry : LockWaitGraphBuilder.this.in.entrySet()) {
				this.waiters[dense.get(entry.getKey())] = dense(entry.getValue(), dense);
			}
			this.order = new int[n];
			this.distance = new int[n];
			this.seen = new int[n];
			this.sccOf = new int[n];
			tarjan();
			this.sccSuccessors = new int[this.sccs.size()][];
			int[] lastSeenBy = new int[this.sccs.size()];
			Arrays.fill(lastSeenBy, -1);
			int[] found = new int[this.sccs.size()];
			for (int scc = 0; scc < this.sccs.size(); scc++) {
				int count = 0;
				for (int member : this.sccs.get(scc)) {
					for (int w : this.successors[member]) {
						int target = this.sccOf[w];
						if (target != scc && lastSeenBy[target] != scc) {
							lastSeenBy[target] = scc;
							found[count++] = target;
						}
					}
				}
				this.sccSuccessors[scc] = (count == 0) ? NONE : Arrays.copyOf(found, count);
			}
		}

		private static int[] dense(Collection<Integer> ids, Map<Integer, Integer> dense) {
			int[] result = new int[ids.size()];
			int i = 0;
			for (Integer id : ids) {
				result[i++] = dense.get(id);
			}
			return result;
		}

		private void tarjan() {
			int n = this.ids.length;
			int[] index = new int[n];
			Arrays.fill(index, -1);
			int[] low = new int[n];
			boolean[] onStack = new boolean[n];
			int[] stack = new int[n];
			int top = 0;
			// the DFS path: a node and how many of its successors it has visited; every node enters it once
			int[] pathNode = new int[n];
			int[] pathNext = new int[n];
			int counter = 0;
			for (int start = 0; start < n; start++) {
				if (index[start] >= 0) {
					continue;
				}
				int depth = 0;
				pathNode[depth] = start;
				pathNext[depth++] = 0;
				while (depth > 0) {
					int frame = depth - 1;
					int v = pathNode[frame];
					if (pathNext[frame] == 0 && index[v] < 0) {
						index[v] = counter;
						low[v] = counter;
						counter++;
						stack[top++] = v;
						onStack[v] = true;
					}
					int[] successors = this.successors[v];
					boolean descended = false;
					while (pathNext[frame] < successors.length) {
						int w = successors[pathNext[frame]++];
						if (index[w] < 0) {
							pathNode[depth] = w;
							pathNext[depth++] = 0;
							descended = true;
							break;
						}
						else if (onStack[w]) {
							low[v] = Math.min(low[v], index[w]);
						}
					}
					if (descended) {
						continue;
					}
					depth--;
					if (depth > 0) {
						int parent = pathNode[depth - 1];
						low[parent] = Math.min(low[parent], low[v]);
					}
					if (low[v] == index[v]) {
						int bottom = top;
						do {
							bottom--;
							onStack[stack[bottom]] = false;
						}
						while (stack[bottom] != v);
						int[] members = Arrays.copyOfRange(stack, bottom, top);
						top = bottom;
						if (members.length > 1) {
							sortByNodeId(members);
						}
						int id = this.sccs.size();
						this.sccs.add(members);
						for (int member : members) {
							this.sccOf[member] = id;
						}
					}
				}
			}
		}

		private void sortByNodeId(int[] members) {
			Integer[] boxed = Arrays.stream(members).boxed().toArray(Integer[]::new);
			Arrays.sort(boxed, Comparator.comparingInt((m) -> this.ids[m]));
			for (int i = 0; i < boxed.length; i++) {
				members[i] = boxed[i];
			}
		}

		List<List<Integer>> cycles() {
			List<List<Integer>> cycles = new ArrayList<>();
			for (int[] scc : this.sccs) {
				if (scc.length > 1) {
					cycles.add(Arrays.stream(scc).mapToObj((m) -> this.ids[m]).toList());
				}
			}
			return List.copyOf(cycles);
		}

		/** Sink components that somebody waits on: their members are the root blockers. */
		List<RootBlocker> roots() {
			List<RootBlocker> roots = new ArrayList<>();
			for (int scc = 0; scc < this.sccs.size(); scc++) {
				int[] members = this.sccs.get(scc);
				if (this.sccSuccessors[scc].length > 0) {
					continue;
				}
				boolean cycle = members.length > 1;
				if (!cycle && this.waiters[members[0]].length == 0) {
					continue;
				}
				for (int member : members) {
					int behind = behind(member);
					Duration longest = Duration.ZERO;
					for (int i = 0; i < behind; i++) {
						for (LockWait wait : this.nodes[this.order[i]].waits()) {
							if (wait.waited().compareTo(longest) > 0) {
								longest = wait.waited();
							}
						}
					}
					roots.add(new RootBlocker(this.ids[member], behind, longest, cycle));
				}
			}
			roots.sort(Comparator.comparingInt(RootBlocker::blockedCount).reversed().thenComparingInt(RootBlocker::pid));
			return List.copyOf(roots);
		}

		/**
		 * Every node that waits on {@code node} directly or transitively, nearest first: puts them in
		 * {@link #order} and their distances in {@link #distance}, and returns how many there are.
		 */
		private int behind(int node) {
			int stamp = ++this.generation;
			this.seen[node] = stamp;
			this.distance[node] = 0;
			int count = 0;
			int head = 0;
			int v = node;
			while (true) {
				for (int waiter : this.waiters[v]) {
					if (this.seen[waiter] != stamp) {
						this.seen[waiter] = stamp;
						this.distance[waiter] = this.distance[v] + 1;
						this.order[count++] = waiter;
					}
				}
				if (head == count) {
					return count;
				}
				v = this.order[head++];
			}
		}

		List<DdlQueue> ddlQueues() {
			int n = this.sccs.size();
			// per component, in emission order (blockers first): does a waiting DDL sit in it or ahead of it,
			// and which roots does it end at
			boolean[] ddlInOrAhead = new boolean[n];
			List<Set<Integer>> rootsOf = new ArrayList<>(n);
			List<DdlQueue> queues = new ArrayList<>();
			for (int scc = 0; scc < n; scc++) {
				int[] members = this.sccs.get(scc);
				int[] next = this.sccSuccessors[scc];
				boolean ddlAhead = false;
				Set<Integer> roots = null;
				for (int s : next) {
					ddlAhead |= ddlInOrAhead[s];
					roots = union(roots, rootsOf.get(s));
				}
				if (next.length == 0) {
					roots = new TreeSet<>();
					for (int member : members) {
						roots.add(this.ids[member]);
					}
				}
				rootsOf.add(roots == null ? Set.of() : roots);
				boolean ddlHere = false;
				for (int member : members) {
					LockWait ddlWait = ddlWait(this.nodes[member]);
					if (ddlWait == null) {
						continue;
					}
					ddlHere = true;
					boolean otherDdlInCycle = members.length > 1 && Arrays.stream(members)
						.anyMatch((m) -> m != member && ddlWait(this.nodes[m]) != null);
					if (!ddlAhead && !otherDdlInCycle && this.waiters[member].length > 0) {
						queues.add(ddlQueue(member, ddlWait, rootsOf.get(scc)));
					}
				}
				ddlInOrAhead[scc] = ddlAhead || ddlHere;
			}
			queues.sort(Comparator.comparingInt(DdlQueue::queueDepth).reversed().thenComparingInt(DdlQueue::pid));
			return List.copyOf(queues);
		}

		private DdlQueue ddlQueue(int ddl, LockWait wait, Set<Integer> roots) {
			int behind = behind(ddl);
			List<DdlQueue.Queued> queued = new ArrayList<>(behind);
			for (int i = 0; i < behind; i++) {
				int v = this.order[i];
				int position = 0;
				for (LockWait w : this.nodes[v].waits()) {
					if (w.object().equals(wait.object())) {
						position = w.queuePosition();
					}
				}
				queued.add(new DdlQueue.Queued(this.ids[v], position, this.distance[v]));
			}
			int ddlId = this.ids[ddl];
			List<Integer> rootList = roots.stream().filter((r) -> r != ddlId).toList();
			return new DdlQueue(ddlId, wait.relation(), wait.mode(), wait.waited(), behind, rootList,
					List.copyOf(queued));
		}

		private LockWait ddlWait(SessionNode node) {
			for (LockWait wait : node.waits()) {
				if (wait.object().isRelation() && wait.mode().blocksWrites()) {
					return wait;
				}
			}
			return null;
		}

		private Set<Integer> union(Set<Integer> a, Set<Integer> b) {
			if (a == null || a.equals(b)) {
				return b;
			}
			if (b.isEmpty() || a.containsAll(b)) {
				return a;
			}
			Set<Integer> merged = new TreeSet<>();
			merged.addAll(a);
			merged.addAll(b);
			return merged;
		}

	}

}

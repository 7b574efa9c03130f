package io.pglockwatch.graph;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.pglockwatch.collect.LockMode;
import io.pglockwatch.collect.LockObject;
import io.pglockwatch.collect.LockRow;
import io.pglockwatch.collect.LockSnapshot;
import io.pglockwatch.collect.PreparedTransaction;
import io.pglockwatch.collect.RelationName;
import io.pglockwatch.collect.SessionActivity;

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
		Set<Integer> nodeIds = new LinkedHashSet<>();
		for (Map.Entry<Integer, LinkedHashMap<Integer, WaitEdge>> entry : this.out.entrySet()) {
			nodeIds.add(entry.getKey());
			nodeIds.addAll(entry.getValue().keySet());
		}
		Map<Integer, SessionNode> sessions = new LinkedHashMap<>();
		for (int id : nodeIds) {
			sessions.put(id, node(id));
		}
		List<WaitEdge> edges = new ArrayList<>();
		this.out.values().forEach((blockers) -> edges.addAll(blockers.values()));

		Components components = new Components(nodeIds);
		List<RootBlocker> roots = components.roots();
		List<DdlQueue> ddlQueues = components.ddlQueues(sessions);
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
			return this.preparedIds.computeIfAbsent(row.virtualTransaction(), (vxid) -> -(this.preparedIds.size() + 1));
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

	private SessionNode node(int id) {
		if (id < 0) {
			String vxid = this.preparedIds.entrySet()
				.stream()
				.filter((e) -> e.getValue() == id)
				.map(Map.Entry::getKey)
				.findFirst()
				.orElseThrow();
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
	 */
	private final class Components {

		private final List<int[]> sccs = new ArrayList<>();

		private final Map<Integer, Integer> sccOf = new HashMap<>();

		Components(Set<Integer> nodes) {
			Map<Integer, Integer> index = new HashMap<>();
			Map<Integer, Integer> low = new HashMap<>();
			Set<Integer> onStack = new HashSet<>();
			ArrayDeque<Integer> stack = new ArrayDeque<>();
			int counter = 0;
			for (int start : nodes) {
				if (index.containsKey(start)) {
					continue;
				}
				ArrayDeque<int[]> work = new ArrayDeque<>();
				work.push(new int[] { start, 0 });
				while (!work.isEmpty()) {
					int[] frame = work.peek();
					int v = frame[0];
					if (frame[1] == 0 && !index.containsKey(v)) {
						index.put(v, counter);
						low.put(v, counter);
						counter++;
						stack.push(v);
						onStack.add(v);
					}
					List<Integer> successors = successors(v);
					boolean descended = false;
					while (frame[1] < successors.size()) {
						int w = successors.get(frame[1]++);
						if (!index.containsKey(w)) {
							work.push(new int[] { w, 0 });
							descended = true;
							break;
						}
						else if (onStack.contains(w)) {
							low.put(v, Math.min(low.get(v), index.get(w)));
						}
					}
					if (descended) {
						continue;
					}
					work.pop();
					if (!work.isEmpty()) {
						int parent = work.peek()[0];
						low.put(parent, Math.min(low.get(parent), low.get(v)));
					}
					if (low.get(v).equals(index.get(v))) {
						List<Integer> members = new ArrayList<>();
						int w;
						do {
							w = stack.pop();
							onStack.remove(w);
							members.add(w);
						}
						while (w != v);
						int id = this.sccs.size();
						int[] scc = members.stream().mapToInt(Integer::intValue).sorted().toArray();
						this.sccs.add(scc);
						for (int member : scc) {
							this.sccOf.put(member, id);
						}
					}
				}
			}
		}

		// built once per node: the SCC pass revisits a node once per successor, and a long exclusive queue gives
		// waiters hundreds of blockers (copying the list on each visit made that pass cubic)
		private final Map<Integer, List<Integer>> successorLists = new HashMap<>();

		private List<Integer> successors(int v) {
			return this.successorLists.computeIfAbsent(v, (node) -> {
				LinkedHashMap<Integer, WaitEdge> blockers = LockWaitGraphBuilder.this.out.get(node);
				return blockers == null ? List.of() : List.copyOf(blockers.keySet());
			});
		}

		private Set<Integer> successorSccs(int scc) {
			Set<Integer> result = new LinkedHashSet<>();
			for (int member : this.sccs.get(scc)) {
				for (int w : successors(member)) {
					int target = this.sccOf.get(w);
					if (target != scc) {
						result.add(target);
					}
				}
			}
			return result;
		}

		List<List<Integer>> cycles() {
			List<List<Integer>> cycles = new ArrayList<>();
			for (int[] scc : this.sccs) {
				if (scc.length > 1) {
					cycles.add(Arrays.stream(scc).boxed().toList());
				}
			}
			return List.copyOf(cycles);
		}

		/** Sink components that somebody waits on: their members are the root blockers. */
		List<RootBlocker> roots() {
			List<RootBlocker> roots = new ArrayList<>();
			for (int scc = 0; scc < this.sccs.size(); scc++) {
				int[] members = this.sccs.get(scc);
				if (!successorSccs(scc).isEmpty()) {
					continue;
				}
				boolean cycle = members.length > 1;
				if (!cycle && !LockWaitGraphBuilder.this.in.containsKey(members[0])) {
					continue;
				}
				for (int member : members) {
					LinkedHashMap<Integer, Integer> behind = behind(member);
					Duration longest = Duration.ZERO;
					for (int waiter : behind.keySet()) {
						for (LockWait wait : LockWaitGraphBuilder.this.waitsByNode.getOrDefault(waiter, List.of())) {
							if (wait.waited().compareTo(longest) > 0) {
								longest = wait.waited();
							}
						}
					}
					roots.add(new RootBlocker(member, behind.size(), longest, cycle));
				}
			}
			roots.sort(Comparator.comparingInt(RootBlocker::blockedCount).reversed().thenComparingInt(RootBlocker::pid));
			return List.copyOf(roots);
		}

		/** Every node that waits on {@code node} directly or transitively, nearest first, with its distance. */
		private LinkedHashMap<Integer, Integer> behind(int node) {
			LinkedHashMap<Integer, Integer> seen = new LinkedHashMap<>();
			ArrayDeque<Integer> queue = new ArrayDeque<>();
			queue.add(node);
			seen.put(node, 0);
			while (!queue.isEmpty()) {
				int v = queue.poll();
				for (int waiter : LockWaitGraphBuilder.this.in.getOrDefault(v, List.of())) {
					if (!seen.containsKey(waiter)) {
						seen.put(waiter, seen.get(v) + 1);
						queue.add(waiter);
					}
				}
			}
			seen.remove(node);
			return seen;
		}

		List<DdlQueue> ddlQueues(Map<Integer, SessionNode> sessions) {
			int n = this.sccs.size();
			// per component, in emission order (blockers first): does a waiting DDL sit in it or ahead of it,
			// and which roots does it end at
			boolean[] ddlInOrAhead = new boolean[n];
			List<Set<Integer>> rootsOf = new ArrayList<>(n);
			List<DdlQueue> queues = new ArrayList<>();
			for (int scc = 0; scc < n; scc++) {
				int[] members = this.sccs.get(scc);
				Set<Integer> next = successorSccs(scc);
				boolean ddlAhead = false;
				Set<Integer> roots = null;
				for (int s : next) {
					ddlAhead |= ddlInOrAhead[s];
					roots = union(roots, rootsOf.get(s));
				}
				if (next.isEmpty()) {
					roots = Arrays.stream(members).boxed().collect(Collectors.toCollection(TreeSet::new));
				}
				rootsOf.add(roots == null ? Set.of() : roots);
				boolean ddlHere = false;
				for (int member : members) {
					LockWait ddlWait = ddlWait(sessions.get(member));
					if (ddlWait == null) {
						continue;
					}
					ddlHere = true;
					boolean otherDdlInCycle = members.length > 1 && Arrays.stream(members)
						.anyMatch((m) -> m != member && ddlWait(sessions.get(m)) != null);
					if (!ddlAhead && !otherDdlInCycle && LockWaitGraphBuilder.this.in.containsKey(member)) {
						queues.add(ddlQueue(member, ddlWait, rootsOf.get(scc)));
					}
				}
				ddlInOrAhead[scc] = ddlAhead || ddlHere;
			}
			queues.sort(Comparator.comparingInt(DdlQueue::queueDepth).reversed().thenComparingInt(DdlQueue::pid));
			return List.copyOf(queues);
		}

		private DdlQueue ddlQueue(int ddl, LockWait wait, Set<Integer> roots) {
			LinkedHashMap<Integer, Integer> behind = behind(ddl);
			List<DdlQueue.Queued> queued = new ArrayList<>(behind.size());
			behind.forEach((pid, distance) -> {
				int position = 0;
				for (LockWait w : LockWaitGraphBuilder.this.waitsByNode.getOrDefault(pid, List.of())) {
					if (w.object().equals(wait.object())) {
						position = w.queuePosition();
					}
				}
				queued.add(new DdlQueue.Queued(pid, position, distance));
			});
			List<Integer> rootList = roots.stream().filter((r) -> r != ddl).toList();
			return new DdlQueue(ddl, wait.relation(), wait.mode(), wait.waited(), behind.size(), rootList,
					List.copyOf(queued));
		}

		private LockWait ddlWait(SessionNode node) {
			if (node == null) {
				return null;
			}
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

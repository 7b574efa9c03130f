package io.pglockwatch.graph;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

import static io.pglockwatch.graph.SnapshotFixture.advisory;
import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.graph.SnapshotFixture.transaction;
import static io.pglockwatch.graph.SnapshotFixture.tuple;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static io.pglockwatch.lock.LockMode.EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ROW_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.SHARE;
import static io.pglockwatch.lock.LockMode.SHARE_UPDATE_EXCLUSIVE;
import static org.assertj.core.api.Assertions.assertThat;

class LockWaitGraphTests {

	private static final long USERS = 20001;

	private static Set<String> edges(LockWaitGraph graph) {
		return graph.edges()
			.stream()
			.map((e) -> e.waiterPid() + "->" + e.blockerPid() + ":" + e.kind().name().toLowerCase())
			.collect(Collectors.toSet());
	}

	@Test
	void alterTableQueueHasHardEdgeToHolderAndSoftEdgesToTheDdl() {
		SnapshotFixture f = new SnapshotFixture().name(USERS, "public", "users")
			.session(100, "reporting", "active")
			.session(200, "migrate", "active")
			.holds(100, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 42);
		for (int i = 1; i <= 3; i++) {
			f.session(300 + i, "api", "active").waits(300 + i, relation(USERS), ACCESS_SHARE, 40 - i);
		}
		LockWaitGraph graph = f.graph();

		assertThat(edges(graph)).containsExactlyInAnyOrder("200->100:hard", "301->200:soft", "302->200:soft",
				"303->200:soft");
		assertThat(graph.rootBlockers()).extracting(RootBlocker::pid, RootBlocker::blockedCount).containsExactly(Tuple.tuple(100, 4));
		assertThat(graph.ddlQueues()).hasSize(1);
		DdlQueue queue = graph.ddlQueues().get(0);
		assertThat(queue.pid()).isEqualTo(200);
		assertThat(queue.relation()).isEqualTo("public.users");
		assertThat(queue.mode()).isEqualTo(ACCESS_EXCLUSIVE);
		assertThat(queue.waited()).isEqualTo(Duration.ofSeconds(42));
		assertThat(queue.queueDepth()).isEqualTo(3);
		assertThat(queue.rootBlockerPids()).containsExactly(100);
		assertThat(queue.queued()).extracting(DdlQueue.Queued::position).containsExactly(2, 3, 4);
		assertThat(graph.lockWaiterCount()).isEqualTo(4);
		assertThat(graph.maxWait()).isEqualTo(Duration.ofSeconds(42));
		assertThat(graph.waitersByMode()).containsEntry(ACCESS_SHARE, 3).containsEntry(ACCESS_EXCLUSIVE, 1);
	}

	@Test
	void createIndexQueuesWritesButNotReads() {
		LockWaitGraph graph = new SnapshotFixture().name(USERS, "public", "orders")
			.holds(100, relation(USERS), ROW_EXCLUSIVE)
			.waits(200, relation(USERS), SHARE, 10)
			.waits(301, relation(USERS), ROW_EXCLUSIVE, 9)
			.waits(302, relation(USERS), ACCESS_SHARE, 8)
			.graph();
		// the reader is granted at once in PostgreSQL; a stale row of it waiting still has no conflict
		assertThat(edges(graph)).containsExactlyInAnyOrder("200->100:hard", "301->200:soft");
		assertThat(graph.ddlQueues()).singleElement().satisfies((q) -> assertThat(q.queueDepth()).isEqualTo(1));
	}

	@Test
	void parallelWorkersFoldIntoTheirLeader() {
		LockWaitGraph graph = new SnapshotFixture().session(100, "report", "active")
			.session(101, 100, "report", "active")
			.session(102, 100, "report", "active")
			.holds(100, relation(USERS), ACCESS_SHARE)
			.holds(101, relation(USERS), ACCESS_SHARE)
			.holds(102, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 5)
			.graph();
		assertThat(edges(graph)).containsExactly("200->100:hard");
		assertThat(graph.sessions().get(100).parallelWorkers()).containsExactly(101, 102);
		assertThat(graph.sessions()).doesNotContainKeys(101, 102);
	}

	@Test
	void aWaitingWorkerMakesItsLeaderWait() {
		LockWaitGraph graph = new SnapshotFixture().session(100, "report", "active")
			.session(101, 100, "report", "active")
			.holds(200, relation(USERS), ACCESS_EXCLUSIVE)
			.waits(101, relation(USERS), ACCESS_SHARE, 3)
			.graph();
		assertThat(edges(graph)).containsExactly("100->200:hard");
	}

	@Test
	void preparedTransactionIsANodeOfItsOwnReportedAsPidZero() {
		LockWaitGraph graph = new SnapshotFixture()
			.preparedHolds("-1/731", "migration-42", relation(USERS), ROW_EXCLUSIVE)
			.preparedHolds("-1/732", "migration-43", relation(USERS), ROW_EXCLUSIVE)
			.waits(200, relation(USERS), SHARE, 5)
			.graph();
		assertThat(graph.edges()).hasSize(2).allSatisfy((e) -> assertThat(e.blockerPid()).isNegative());
		assertThat(graph.sessions().values()).filteredOn((n) -> n.prepared() != null)
			.extracting((n) -> n.prepared().gid())
			.containsExactlyInAnyOrder("migration-42", "migration-43");
		assertThat(graph.sessions().values()).filteredOn((n) -> n.prepared() != null)
			.allSatisfy((n) -> assertThat(n.pid()).isZero());
		assertThat(graph.rootBlockers()).hasSize(2);
	}

	@Test
	void rowLockChainThroughTupleAndTransactionLocks() {
		// A updated the row; B waits for A's transaction holding the tuple lock; C and D wait for the tuple
		LockWaitGraph graph = new SnapshotFixture().session(100, "a", "idle in transaction")
			.holds(100, transaction(900), EXCLUSIVE)
			.holds(200, transaction(901), EXCLUSIVE)
			.holds(200, tuple(USERS, 0, 1), EXCLUSIVE)
			.waits(200, transaction(900), SHARE, 30)
			.waits(300, tuple(USERS, 0, 1), EXCLUSIVE, 20)
			.waits(400, tuple(USERS, 0, 1), EXCLUSIVE, 10)
			.graph();
		assertThat(edges(graph)).containsExactlyInAnyOrder("200->100:hard", "300->200:hard", "400->200:hard",
				"400->300:soft");
		assertThat(graph.rootBlockers()).extracting(RootBlocker::pid, RootBlocker::blockedCount).containsExactly(Tuple.tuple(100, 3));
		assertThat(graph.sessions().get(100).isIdleInTransaction()).isTrue();
		assertThat(graph.ddlQueues()).isEmpty();
		assertThat(graph.sessions().get(300).waits().get(0).description()).isEqualTo("tuple lab:20001 (0,1)");
	}

	@Test
	void cycleMembersAreRootsOnACycle() {
		LockWaitGraph graph = new SnapshotFixture().holds(100, transaction(900), EXCLUSIVE)
			.holds(200, transaction(901), EXCLUSIVE)
			.waits(100, transaction(901), SHARE, 2)
			.waits(200, transaction(900), SHARE, 1)
			.waits(300, transaction(900), SHARE, 0.5)
			.graph();
		assertThat(graph.cycles()).containsExactly(List.of(100, 200));
		assertThat(graph.rootBlockers()).extracting(RootBlocker::pid).containsExactlyInAnyOrder(100, 200);
		assertThat(graph.rootBlockers()).allSatisfy((r) -> assertThat(r.onCycle()).isTrue());
	}

	@Test
	void onlyTheHeadOfStackedDdlIsADdlQueue() {
		LockWaitGraph graph = new SnapshotFixture().holds(100, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 30)
			.waits(201, relation(USERS), SHARE_UPDATE_EXCLUSIVE, 20)
			.waits(300, relation(USERS), ACCESS_SHARE, 10)
			.graph();
		assertThat(graph.ddlQueues()).singleElement().satisfies((q) -> {
			assertThat(q.pid()).isEqualTo(200);
			assertThat(q.queueDepth()).isEqualTo(2);
		});
		assertThat(edges(graph)).containsExactlyInAnyOrder("200->100:hard", "201->200:soft", "300->200:soft");
	}

	@Test
	void aDdlWithNobodyBehindItIsNoQueue() {
		LockWaitGraph graph = new SnapshotFixture().holds(100, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 30)
			.graph();
		assertThat(graph.ddlQueues()).isEmpty();
		assertThat(graph.rootBlockers()).extracting(RootBlocker::pid, RootBlocker::blockedCount).containsExactly(Tuple.tuple(100, 1));
	}

	@Test
	void exclusiveQueueGrowsEdgesQuadraticallyAsPostgresReportsThem() {
		SnapshotFixture f = new SnapshotFixture().holds(100, advisory(42), EXCLUSIVE);
		for (int i = 1; i <= 4; i++) {
			f.waits(100 + i, advisory(42), EXCLUSIVE, 10 - i);
		}
		LockWaitGraph graph = f.graph();
		// waiter i is blocked by the holder and by every earlier waiter, as pg_blocking_pids says
		assertThat(graph.edges()).hasSize(4 + 3 + 2 + 1);
		assertThat(graph.sessions().get(101).waits().get(0).description()).isEqualTo("advisory 42");
	}

	@Test
	void serverReportedBlockersReplaceTheWaitstartOrderForUpgraders() {
		// 200 holds AccessShare and asks for AccessExclusive: PostgreSQL puts it ahead of the earlier 300
		LockWaitGraph graph = new SnapshotFixture().holds(100, relation(USERS), ACCESS_SHARE)
			.holds(200, relation(USERS), ACCESS_SHARE)
			.waits(300, relation(USERS), ACCESS_EXCLUSIVE, 20)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 10)
			.reported(300, 100, 200)
			.reported(200, 100)
			.graph();
		assertThat(edges(graph)).containsExactlyInAnyOrder("300->100:hard", "300->200:hard", "200->100:hard");
	}

	@Test
	void nullWaitStartQueuesLast() {
		LockWaitGraph graph = new SnapshotFixture().holds(100, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 5)
			.graph();
		assertThat(graph.sessions().get(200).waits().get(0).queuePosition()).isEqualTo(1);
		assertThat(LockWaitGraph.empty("orders", SnapshotFixture.NOW).lockWaiterCount()).isZero();
	}


	@Test
	void anEdgeHasTheRelationOfTheLockItIsAboutAndAPreparedTransactionHasPidZero() {
		LockWaitGraph graph = new SnapshotFixture().name(USERS, "public", "accounts")
			.session(100, "a", "idle in transaction")
			.holds(100, transaction(900), EXCLUSIVE)
			.holds(200, tuple(USERS, 0, 1), EXCLUSIVE)
			.waits(200, transaction(900), SHARE, 30)
			.waits(300, tuple(USERS, 0, 1), EXCLUSIVE, 20)
			.preparedHolds("4/4", "gid-1", relation(USERS), ROW_EXCLUSIVE)
			.waits(400, relation(USERS), SHARE, 5)
			.graph();
		assertThat(graph.edges()).extracting(graph::relation).containsOnly(null, "public.accounts");
		SessionNode prepared = graph.sessions()
			.values()
			.stream()
			.filter((n) -> n.prepared() != null)
			.findFirst()
			.orElseThrow();
		assertThat(prepared.id()).isNegative();
		assertThat(prepared.pid()).isZero().isEqualTo(SessionNode.pidOf(prepared.id()));
		assertThat(prepared.gid()).isEqualTo("gid-1");
		assertThat(graph.sessions().get(100).gid()).isNull();
	}


	@Test
	void aLongExclusiveQueueHasEveryEdgeAndOneRoot() {
		// 800 waiters for one advisory lock: waiter i is blocked by the holder and every earlier waiter, so edges grow
		// as N^2 (320,400 here); the SCC pass must stay linear in them
		int waiters = 800;
		SnapshotFixture f = new SnapshotFixture().holds(1, advisory(7), EXCLUSIVE);
		for (int i = 1; i <= waiters; i++) {
			f.waits(1 + i, advisory(7), EXCLUSIVE, 1000 - i);
		}
		LockWaitGraph graph = f.graph();
		assertThat(graph.edges()).hasSize(waiters * (waiters + 1) / 2);
		assertThat(graph.rootBlockers()).singleElement().satisfies((r) -> {
			assertThat(r.pid()).isEqualTo(1);
			assertThat(r.blockedCount()).isEqualTo(waiters);
		});
		assertThat(graph.cycles()).isEmpty();
	}

}

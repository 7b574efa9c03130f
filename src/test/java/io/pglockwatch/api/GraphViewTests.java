package io.pglockwatch.api;

import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.incident.PeakGraph;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.graph.SnapshotFixture.transaction;
import static io.pglockwatch.graph.SnapshotFixture.tuple;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static io.pglockwatch.lock.LockMode.EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ROW_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.SHARE;
import static org.assertj.core.api.Assertions.assertThat;

/** The API's graph, live and from an incident's stored graph at peak. */
class GraphViewTests {

	private static final long USERS = 20001;

	private final JsonMapper json = JsonMapper.builder().build();

	/** A row lock chain, a prepared transaction that blocks, and a DDL queue. */
	private static LockWaitGraph graph() {
		return new SnapshotFixture().name(USERS, "public", "accounts")
			.at(2.5)
			.session(100, "a", "idle in transaction")
			.holds(100, transaction(900), EXCLUSIVE)
			.holds(200, tuple(USERS, 0, 1), EXCLUSIVE)
			.waits(200, transaction(900), SHARE, 30)
			.waits(300, tuple(USERS, 0, 1), EXCLUSIVE, 20)
			.preparedHolds("4/4", "gid-1", relation(USERS), ROW_EXCLUSIVE)
			.waits(400, relation(USERS), SHARE, 5)
			.session(500, "migrate", "active")
			.holds(600, relation(USERS + 1), ACCESS_SHARE)
			.waits(500, relation(USERS + 1), ACCESS_EXCLUSIVE, 12)
			.waits(700, relation(USERS + 1), ACCESS_SHARE, 3)
			.waits(701, relation(USERS + 1), ACCESS_SHARE, 2)
			.waits(702, relation(USERS + 1), ACCESS_SHARE, 1)
			.graph();
	}

	@Test
	void rowLockChainAndAPreparedTransaction() {
		GraphView view = GraphView.of(graph());
		assertThat(view.edges()).extracting(GraphView.Edge::relation).contains(null, "public.accounts");
		assertThat(view.edges()).filteredOn((e) -> e.blockerGid() != null)
			.singleElement()
			.satisfies((e) -> assertThat(e.blockerPid()).isZero());
		assertThat(view.sessions()).extracting(GraphView.Session::gid).contains("gid-1");
		assertThat(view.roots()).extracting(GraphView.Root::pid).contains(0, 100);
		assertThat(view.ddlQueues()).singleElement().satisfies((q) -> assertThat(q.queueDepth()).isEqualTo(3));
		assertThat(view.edgeCount()).isEqualTo(view.edges().size());
	}

	@Test
	void theGraphAtPeakIsServedInTheJsonOfTheLiveGraph() {
		LockWaitGraph graph = graph();
		String stored = this.json.writeValueAsString(PeakGraph.of(graph));
		String live = this.json.writeValueAsString(GraphView.of(graph));
		assertThat(this.json.writeValueAsString(GraphView.of(PeakGraph.read(this.json, stored)))).isEqualTo(live);
		// version 1 has the fields of the API's graph plus its version, so rows stored before there was a version
		// (the API's graph itself was stored) read as version 1
		ObjectNode storedTree = (ObjectNode) this.json.readTree(stored);
		assertThat(storedTree.remove("schemaVersion").intValue()).isEqualTo(1);
		assertThat(storedTree).isEqualTo(this.json.readTree(live));
		JsonNode fromUnversionedRow = this.json.valueToTree(GraphView.of(PeakGraph.read(this.json, live)));
		assertThat(fromUnversionedRow).isEqualTo(this.json.readTree(live));
	}

}

package io.pglockwatch.fleet;

import java.time.Duration;

import io.pglockwatch.api.GraphView;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.poll.PollFailure;
import io.pglockwatch.poll.TargetState;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class StoredTargetStateTests {

	private static final long USERS = 16500;

	@Test
	void aReplicaThatReadsThePublishedStateBuildsTheSameGraphAsThePoller() {
		LockSnapshot snapshot = new SnapshotFixture().name(USERS, "public", "users")
			.idleSession(100, "report", 30)
			.session(200, "migrate", "active")
			.session(300, "api", "active")
			.holds(100, SnapshotFixture.relation(USERS), LockMode.ACCESS_SHARE)
			.waits(200, SnapshotFixture.relation(USERS), LockMode.ACCESS_EXCLUSIVE, 12)
			.waits(300, SnapshotFixture.relation(USERS), LockMode.ACCESS_SHARE, 10)
			.replayHolds(50, SnapshotFixture.relation(99), LockMode.ACCESS_EXCLUSIVE)
			.reported(300, 200)
			.snapshot();
		LockWaitGraph graph = LockWaitGraph.of(snapshot);
		TargetState polled = new TargetState("orders", true, snapshot.takenAt(), snapshot.takenAt(),
				Duration.ofMillis(12), 180001, graph, null, null, null, snapshot.standby());

		String json = StoredTargetState.of(polled, snapshot).toJson();
		TargetState read = StoredTargetState.read(json).toState();

		assertThat(read.name()).isEqualTo("orders");
		assertThat(read.isUp()).isTrue();
		assertThat(read.lastDuration()).isEqualTo(Duration.ofMillis(12));
		assertThat(read.serverVersion()).isEqualTo("18.1");
		assertThat(GraphView.of(read.freshGraph())).isEqualTo(GraphView.of(graph));
		assertThat(read.freshGraph().ddlQueues()).hasSize(1);
		assertThat(read.standby()).isEqualTo(snapshot.standby());
		assertThat(StoredTargetState.read(json).snapshot()).isEqualTo(snapshot);
	}

	@Test
	void aFailedPollIsPublishedWithoutAGraph() {
		TargetState down = new TargetState("orders", false, SnapshotFixture.NOW, null, Duration.ofMillis(3), 0, null,
				PollFailure.CONNECT, "Connection refused", null, null);

		TargetState read = StoredTargetState.read(StoredTargetState.of(down, null).toJson()).toState();

		assertThat(read.up()).isFalse();
		assertThat(read.failure()).isEqualTo(PollFailure.CONNECT);
		assertThat(read.error()).isEqualTo("Connection refused");
		assertThat(read.graph()).isNull();
	}

	@Test
	void anotherSchemaVersionIsRefusedNotMisread() {
		assertThatIllegalArgumentException().isThrownBy(() -> StoredTargetState.read("{\"schemaVersion\":2}"))
			.withMessageContaining("schema version 2");
		assertThatIllegalArgumentException().isThrownBy(() -> StoredTargetState.read("[]"))
			.withMessageContaining("not a stored target state");
		assertThatIllegalArgumentException().isThrownBy(() -> StoredTargetState.read("{\"schemaVersion\":1,\"up\":[]}"))
			.withMessageContaining("not a stored target state");
	}

}

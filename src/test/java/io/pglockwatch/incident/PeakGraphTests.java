package io.pglockwatch.incident;

import io.pglockwatch.graph.SnapshotFixture;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class PeakGraphTests {

	private final JsonMapper json = JsonMapper.builder().build();

	@Test
	void writtenWithItsSchemaVersionAndReadBack() {
		PeakGraph graph = PeakGraph.of(new SnapshotFixture().session(100, "report", "idle in transaction")
			.holds(100, relation(7), ACCESS_SHARE)
			.waits(200, relation(7), ACCESS_EXCLUSIVE, 4)
			.waits(300, relation(7), ACCESS_SHARE, 2)
			.graph());
		String stored = this.json.writeValueAsString(graph);
		assertThat(stored).startsWith("{\"schemaVersion\":1,");
		assertThat(PeakGraph.read(this.json, stored)).isEqualTo(graph);
	}

	@Test
	void aRowWithoutSchemaVersionIsVersionOne() {
		PeakGraph graph = PeakGraph.read(this.json, "{\"target\":\"orders\",\"sessionCount\":1,\"edgeCount\":0,"
				+ "\"sessions\":[{\"pid\":7,\"state\":\"active\"}],\"edges\":[],\"roots\":[],\"ddlQueues\":[],\"cycles\":[]}");
		assertThat(graph.schemaVersion()).isEqualTo(1);
		assertThat(graph.sessions()).singleElement().satisfies((s) -> {
			assertThat(s.pid()).isEqualTo(7);
			assertThat(s.waiting()).isEmpty();
		});
	}

	@Test
	void anUnknownVersionOrNoGraphIsRefusedWithTheReason() {
		assertThatExceptionOfType(PeakGraph.UnreadableException.class)
			.isThrownBy(() -> PeakGraph.read(this.json, "{\"schemaVersion\":2,\"nodes\":[]}"))
			.withMessage("the graph at peak was stored with schema version 2, and this version of pg-lockwatch reads "
					+ "version 1 only");
		assertThatExceptionOfType(PeakGraph.UnreadableException.class)
			.isThrownBy(() -> PeakGraph.read(this.json, "{\"schemaVersion\":\"1\"}"));
		assertThatExceptionOfType(PeakGraph.UnreadableException.class).isThrownBy(() -> PeakGraph.read(this.json, "[]"))
			.withMessageContaining("not a JSON object");
		assertThatExceptionOfType(PeakGraph.UnreadableException.class)
			.isThrownBy(() -> PeakGraph.read(this.json, "{\"target\":"))
			.withMessageContaining("not readable");
	}

}

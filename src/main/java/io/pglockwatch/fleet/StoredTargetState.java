package io.pglockwatch.fleet;

import java.time.Duration;
import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.lock.Standby;
import io.pglockwatch.poll.PollFailure;
import io.pglockwatch.poll.TargetState;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A target's state as the replica that polls it publishes it in the store ({@code target_state.state}), for the other
 * replicas to show: the {@link TargetState} of its latest poll with the lock snapshot that poll read, from which a
 * reader builds the same graph the poller built. The snapshot's query text is already what
 * {@code pglockwatch.targets.query-text} lets the poller keep.
 *
 * <p>Rows are rewritten every few seconds, so an unknown version is not migrated but skipped until its writer (a
 * newer replica during a rolling upgrade) is replaced: version {@value #SCHEMA_VERSION} is the only one read.
 *
 * @param snapshot the latest successful poll's read, null when the latest poll failed
 */
record StoredTargetState(int schemaVersion, String name, Boolean up, Instant lastPollAt, Instant lastSuccessAt,
		Duration lastDuration, int serverVersionNum, PollFailure failure, String error, String privilegeWarning,
		Standby standby, LockSnapshot snapshot) {

	static final int SCHEMA_VERSION = 1;

	// the records' components only: helpers such as LockObject.isRelation() are not data
	static final JsonMapper JSON = JsonMapper.builder()
		.disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
		.changeDefaultVisibility((visibility) -> visibility.withIsGetterVisibility(Visibility.NONE)
			.withGetterVisibility(Visibility.NONE)
			.withFieldVisibility(Visibility.ANY))
		.build();

	/** The stored form of a state and the snapshot of the poll that left it (null after a failed poll). */
	static StoredTargetState of(TargetState state, LockSnapshot snapshot) {
		return new StoredTargetState(SCHEMA_VERSION, state.name(), state.up(), state.lastPollAt(),
				state.lastSuccessAt(), state.lastDuration(), state.serverVersionNum(), state.failure(), state.error(),
				state.privilegeWarning(), state.standby(), state.isUp() ? snapshot : null);
	}

	String toJson() {
		return JSON.writeValueAsString(this);
	}

	/**
	 * Reads a stored state.
	 * @throws IllegalArgumentException when it is not JSON of a state of version {@value #SCHEMA_VERSION}
	 */
	static StoredTargetState read(String json) {
		try {
			JsonNode tree = JSON.readTree(json);
			JsonNode version = (tree != null) ? tree.get("schemaVersion") : null;
			if (version == null || !version.isInt()) {
				throw new IllegalArgumentException("not a stored target state: no schemaVersion");
			}
			if (version.intValue() != SCHEMA_VERSION) {
				throw new IllegalArgumentException("a target state stored with schema version " + version.intValue()
						+ ", this replica reads version " + SCHEMA_VERSION);
			}
			return JSON.treeToValue(tree, StoredTargetState.class);
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException("not a stored target state: " + ex.getOriginalMessage(), ex);
		}
	}

	/** The state as the poller had it, with the graph built again from the snapshot. */
	TargetState toState() {
		LockWaitGraph graph = (this.snapshot != null) ? LockWaitGraph.of(this.snapshot) : null;
		return new TargetState(this.name, this.up, this.lastPollAt, this.lastSuccessAt, this.lastDuration,
				this.serverVersionNum, graph, this.failure, this.error, this.privilegeWarning, this.standby);
	}

}

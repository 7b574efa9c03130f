package io.pglockwatch.incident;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pglockwatch.cluster.TestClusters;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.poll.PollOutcome;
import io.pglockwatch.poll.TargetsProperties;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The timeline the recorder stores for a synthetic incident polled once a second: a DDL queue of 5 that lasts ten
 * minutes, on H2.
 */
class IncidentTimelineTests {

	private static final String DATABASE = "incident_timeline_it";

	private static final long USERS = 20001;

	private static final Duration PATIENCE = Duration.ofSeconds(60);

	private JdbcClient jdbc;

	private IncidentStore store;

	private IncidentRecorder recorder;

	private HikariDataSource dataSource;

	private TestClusters.Running cluster;

	@BeforeEach
	void recorder() {
		StoreDatabase.H2.recreateSchema(DATABASE);
		// one connection for the whole test: hundreds of writes need not each open one
		HikariConfig pool = new HikariConfig();
		pool.setJdbcUrl(StoreDatabase.H2.url(DATABASE));
		pool.setUsername(StoreDatabase.H2.user());
		pool.setPassword(StoreDatabase.H2.password());
		pool.setMaximumPoolSize(2);
		this.dataSource = new HikariDataSource(pool);
		this.cluster = TestClusters.alone(this.dataSource);
		this.jdbc = JdbcClient.create(this.dataSource);
		this.store = new IncidentStore(this.jdbc);
		TargetsProperties targets = new TargetsProperties(
				List.of(new TargetsProperties.Target("orders", "jdbc:postgresql://db:5432/app", null, null, null)),
				QueryTextMode.REDACTED);
		DetectionProperties detection = new DetectionProperties(
				new DetectionProperties.DdlQueue(3, Duration.ofSeconds(2), 20, Duration.ofSeconds(30),
						Duration.ofSeconds(10)),
				new DetectionProperties.BlockingChain(50, Duration.ofSeconds(30)),
				new DetectionProperties.IdleBlocker(Duration.ofSeconds(30)), Duration.ofSeconds(10));
		this.recorder = new IncidentRecorder(this.store,
				new StoreWriter(StoreWriter.DEFAULT_LIMIT, Clock.fixed(SnapshotFixture.NOW, ZoneOffset.UTC)), targets,
				detection,
				new IncidentProperties(Duration.ofDays(30), 10_000, Duration.ofHours(1)), JsonMapper.builder().build(),
				new DefaultListableBeanFactory().getBeanProvider(IncidentListener.class),
				Clock.fixed(SnapshotFixture.NOW, ZoneOffset.UTC), this.cluster.cluster());
		// the first poll of a shard this replica leads has the shard's active incidents read back, and is not recorded
		poll(-10, 0);
		this.recorder.flush(PATIENCE);
	}

	@AfterEach
	void stop() {
		this.recorder.stop();
		this.cluster.close();
		this.dataSource.close();
	}

	/** An ALTER TABLE waiting behind a reader since 5 s before NOW, with {@code queued} sessions behind it. */
	private void poll(int second, int queued) {
		SnapshotFixture fixture = new SnapshotFixture().name(USERS, "public", "users").at(second);
		if (queued > 0) {
			fixture.session(100, "report", "active")
				.holds(100, relation(USERS), ACCESS_SHARE)
				.sessionStartedAt(200, "migrate", 3600)
				.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 5);
			for (int i = 0; i < queued; i++) {
				fixture.waits(300 + i, relation(USERS), ACCESS_SHARE, 4 - i * 0.5);
			}
		}
		LockWaitGraph graph = fixture.graph();
		this.recorder.onPoll(new PollOutcome("orders", null, Duration.ofMillis(3), null, graph, null, null,
				Duration.ZERO, 0));
	}

	private Incident incident() {
		return this.store.find(new IncidentQuery(null, "orders", IncidentKind.DDL_LOCK_QUEUE, 10)).get(0);
	}

	private long rows(String incidentId) {
		return this.jdbc.sql("SELECT count(*) FROM incident_timeline WHERE incident_id = :id")
			.param("id", incidentId)
			.query(Long.class)
			.single();
	}

	private static Instant at(int second) {
		return SnapshotFixture.NOW.plusSeconds(second);
	}

	@Test
	void aFlatTenMinuteIncidentStoresAboutARowAMinute() {
		for (int s = 0; s <= 600; s++) {
			poll(s, 5);
		}
		this.recorder.flush(PATIENCE);
		Incident incident = incident();
		// what the API and the page serve: from the poll that opened it to the latest one
		List<TimelinePoint> timeline = this.store.timeline(incident.id());
		assertThat(timeline.get(0).at()).isEqualTo(incident.openedAt()).isEqualTo(at(0));
		assertThat(timeline.get(timeline.size() - 1)).isEqualTo(new TimelinePoint(at(600), 5, Duration.ofSeconds(605)));
		assertThat(timeline).allSatisfy((p) -> assertThat(p.maxWait()).isEqualTo(Duration.between(at(-5), p.at())));
		// a row per poll before: 601
		assertThat(rows(incident.id())).isBetween(10L, 13L);

		for (int s = 601; s <= 615; s++) {
			poll(s, 0);
		}
		this.recorder.flush(PATIENCE);
		assertThat(this.store.findById(incident.id()))
			.hasValueSatisfying((resolved) -> assertThat(resolved.state()).isEqualTo(IncidentState.RESOLVED));
		timeline = this.store.timeline(incident.id());
		// of the zero points while it was gone but not yet resolved (it resolves at 610), the first and the last
		assertThat(timeline.subList(timeline.size() - 3, timeline.size())).containsExactly(
				new TimelinePoint(at(600), 5, Duration.ofSeconds(605)), new TimelinePoint(at(601), 0, Duration.ZERO),
				new TimelinePoint(at(609), 0, Duration.ZERO));
		assertThat(rows(incident.id())).isLessThan(16);
	}

	@Test
	void aDepthChangeIsRecordedAtThePollItHappened() {
		for (int s = 0; s < 300; s++) {
			poll(s, 5);
		}
		for (int s = 300; s <= 400; s++) {
			poll(s, 6);
		}
		this.recorder.flush(PATIENCE);
		List<TimelinePoint> timeline = this.store.timeline(this.incident().id());
		assertThat(timeline).contains(new TimelinePoint(at(299), 5, Duration.ofSeconds(304)),
				new TimelinePoint(at(300), 6, Duration.ofSeconds(305)));
		assertThat(timeline).filteredOn((p) -> p.at().isBefore(at(300)))
			.allSatisfy((p) -> assertThat(p.queueDepth()).isEqualTo(5));
		assertThat(timeline).filteredOn((p) -> !p.at().isBefore(at(300)))
			.allSatisfy((p) -> assertThat(p.queueDepth()).isEqualTo(6));
		assertThat(timeline.get(timeline.size() - 1).at()).isEqualTo(at(400));
	}

}

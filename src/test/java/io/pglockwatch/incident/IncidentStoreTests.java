package io.pglockwatch.incident;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.testsupport.ShiftableClock;
import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.EmptyResultDataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@link IncidentStore} on each database the service may keep its history in: H2 and a real PostgreSQL, both with
 * the schema from their own Flyway migrations.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreDatabase.class)
class IncidentStoreTests {

	private static final String DATABASE = "incident_store_it";

	/** Has microseconds, which both databases keep. */
	private static final Instant T0 = Instant.parse("2025-11-23T18:00:00.123456Z");

	@Parameter
	StoreDatabase database;

	private final AtomicReference<Instant> now = new AtomicReference<>(T0);

	private JdbcClient jdbc;

	private IncidentStore store;

	@BeforeParameterizedClassInvocation
	static void migrate(StoreDatabase database) {
		database.recreateSchema(DATABASE);
	}

	@BeforeEach
	void emptyTables() {
		this.jdbc = JdbcClient.create(this.database.newDataSource(DATABASE));
		this.jdbc.sql("DELETE FROM incident_timeline").update();
		this.jdbc.sql("DELETE FROM incident").update();
		this.store = new IncidentStore(this.jdbc, ShiftableClock.of(this.now::get));
	}

	@Test
	void ddlIncidentRoundTripsEveryField() {
		Incident incident = new Incident("inc-ddl-1", "prod|ddl-lock-queue|4242|2025-11-23T17:00:00Z", "prod",
				IncidentKind.DDL_LOCK_QUEUE, Severity.CRITICAL, IncidentState.ESCALATED, T0, T0.plusSeconds(30), null,
				T0.plusSeconds(95), ddlFacts(), rootSession(), 37, 41, Duration.ofMillis(95_321), "shop");
		this.store.save(incident);

		assertThat(this.store.findById("inc-ddl-1")).contains(incident);
		assertThat(this.store.findById("inc-unknown")).isEmpty();
	}

	@Test
	void incidentWithoutDdlWithPreparedTransactionAsRootRoundTrips() {
		SessionFacts prepared = new SessionFacts(0, null, null, null, "billing", null, "shop", T0.minusSeconds(7200),
				Duration.ofHours(2), null, null, null, "billing-batch-2025-11-23'7");
		Incident incident = new Incident("inc-chain-1", "prod|blocking-chain|0|billing-batch", "prod",
				IncidentKind.BLOCKING_CHAIN, Severity.WARNING, IncidentState.OPEN, T0, null, null, T0, null, prepared,
				12, 12, Duration.ofMillis(1), "shop");
		this.store.save(incident);

		Incident read = this.store.findById("inc-chain-1").orElseThrow();
		assertThat(read).isEqualTo(incident);
		assertThat(read.ddl()).isNull();
		assertThat(read.rootBlocker().pid()).isZero();
		assertThat(read.rootBlocker().preparedGid()).isEqualTo("billing-batch-2025-11-23'7");
	}

	@Test
	void absentFactsReadBackAsNull() {
		SessionFacts bare = new SessionFacts(77, null, null, null, null, null, null, null, null, null, null, null,
				null);
		DdlFacts ddlWithoutSession = new DdlFacts(null, LockMode.SHARE, null, null);
		Incident noRoot = new Incident("inc-nulls-1", "k1", "prod", IncidentKind.IDLE_BLOCKER, Severity.WARNING,
				IncidentState.OPEN, T0, null, null, null, null, null, 0, 0, null, null);
		Incident bareSessions = new Incident("inc-nulls-2", "k2", "prod", IncidentKind.DDL_LOCK_QUEUE,
				Severity.WARNING, IncidentState.OPEN, T0, null, null, null, new DdlFacts(bare, null, null, null), bare,
				1, 1, null, null);
		Incident onlyMode = new Incident("inc-nulls-3", "k3", "prod", IncidentKind.DDL_LOCK_QUEUE, Severity.WARNING,
				IncidentState.OPEN, T0, null, null, null, ddlWithoutSession, null, 1, 1, Duration.ZERO, "");
		List.of(noRoot, bareSessions, onlyMode).forEach(this.store::save);

		assertThat(this.store.findById("inc-nulls-1")).contains(noRoot);
		assertThat(this.store.findById("inc-nulls-2")).contains(bareSessions);
		assertThat(this.store.findById("inc-nulls-3")).contains(onlyMode);
	}

	@Test
	void instantsAreKeptToTheMicrosecondInUtc() {
		Instant nanos = Instant.parse("2025-11-23T18:00:00.123456789Z");
		this.store.save(incident("inc-nanos", IncidentKind.IDLE_BLOCKER, IncidentState.OPEN, "prod", nanos));

		assertThat(this.store.findById("inc-nanos").orElseThrow().openedAt())
			.isEqualTo(Instant.parse("2025-11-23T18:00:00.123456Z"));
		OffsetDateTime stored = this.jdbc.sql("SELECT opened_at FROM incident WHERE id = 'inc-nanos'")
			.query((rs, rowNum) -> rs.getObject(1, OffsetDateTime.class))
			.single();
		assertThat(stored.getOffset()).isEqualTo(ZoneOffset.UTC);
	}

	@Test
	void saveUpdatesSeverityStateAndPeakInPlace() {
		Incident open = new Incident("inc-life", "prod|ddl-lock-queue|4242", "prod", IncidentKind.DDL_LOCK_QUEUE,
				Severity.WARNING, IncidentState.OPEN, T0, null, null, T0, ddlFacts(), rootSession(), 5, 5,
				Duration.ofSeconds(5), "shop");
		this.store.save(open);
		Instant created = column("inc-life", "created_at");
		this.now.set(T0.plusSeconds(60));
		Incident escalated = new Incident("inc-life", open.dedupKey(), "prod", IncidentKind.DDL_LOCK_QUEUE,
				Severity.CRITICAL, IncidentState.ESCALATED, T0, T0.plusSeconds(60), null, T0.plusSeconds(60),
				ddlFacts(), rootSession(), 37, 37, Duration.ofSeconds(65), "shop");
		this.store.save(escalated);
		assertThat(this.store.findById("inc-life")).contains(escalated);

		this.now.set(T0.plusSeconds(120));
		Incident resolved = new Incident("inc-life", open.dedupKey(), "prod", IncidentKind.DDL_LOCK_QUEUE,
				Severity.CRITICAL, IncidentState.RESOLVED, T0, T0.plusSeconds(60), T0.plusSeconds(120),
				T0.plusSeconds(115), null, null, 0, 37, Duration.ofSeconds(65), "shop");
		this.store.save(resolved);

		assertThat(this.store.findById("inc-life")).contains(resolved);
		assertThat(this.jdbc.sql("SELECT count(*) FROM incident").query(Long.class).single()).isOne();
		assertThat(column("inc-life", "created_at")).isEqualTo(created).isEqualTo(T0);
		assertThat(column("inc-life", "updated_at")).isEqualTo(T0.plusSeconds(120));
	}

	@Test
	void saveKeepsTimelineAndPeakGraph() {
		Incident open = incident("inc-keep", IncidentKind.BLOCKING_CHAIN, IncidentState.OPEN, "prod", T0);
		this.store.save(open);
		this.store.appendTimeline("inc-keep", new TimelinePoint(T0, 3, Duration.ofSeconds(1)));
		this.store.savePeakGraph("inc-keep", "{\"nodes\":[]}");

		this.store.save(incident("inc-keep", IncidentKind.BLOCKING_CHAIN, IncidentState.RESOLVED, "prod", T0));

		assertThat(this.store.timeline("inc-keep")).hasSize(1);
		assertThat(this.store.peakGraph("inc-keep")).contains("{\"nodes\":[]}");
	}

	@Test
	void concurrentFirstSavesOfOneIncidentAllSucceed() throws Exception {
		// two replicas opening the same incident at once: both find nothing to update and both insert
		int writers = 4;
		ExecutorService executor = Executors.newFixedThreadPool(writers);
		try {
			for (int round = 0; round < 10; round++) {
				Incident incident = incident("inc-race-" + round, IncidentKind.IDLE_BLOCKER, IncidentState.OPEN,
						"prod", T0.plusSeconds(round));
				CyclicBarrier start = new CyclicBarrier(writers);
				List<Future<?>> saves = new ArrayList<>();
				for (int writer = 0; writer < writers; writer++) {
					saves.add(executor.submit(() -> {
						start.await(10, TimeUnit.SECONDS);
						this.store.save(incident);
						return null;
					}));
				}
				for (Future<?> save : saves) {
					save.get(30, TimeUnit.SECONDS);
				}
				assertThat(this.store.findById(incident.id())).contains(incident);
			}
		}
		finally {
			executor.shutdownNow();
		}
		assertThat(this.store.countActive()).isEqualTo(10);
	}

	@Test
	void incidentMissingARequiredFactIsRefused() {
		Incident noDedupKey = new Incident("inc-bad", null, "prod", IncidentKind.IDLE_BLOCKER, Severity.WARNING,
				IncidentState.OPEN, T0, null, null, T0, null, rootSession(), 1, 1, Duration.ZERO, "shop");

		assertThatExceptionOfType(DataIntegrityViolationException.class).isThrownBy(() -> this.store.save(noDedupKey));
		assertThat(this.store.findById("inc-bad")).isEmpty();
	}

	@Test
	void sameDedupKeyMayOpenAgainAfterResolving() {
		Incident first = incident("inc-a", IncidentKind.IDLE_BLOCKER, IncidentState.RESOLVED, "prod", T0);
		Incident second = incident("inc-b", IncidentKind.IDLE_BLOCKER, IncidentState.OPEN, "prod",
				T0.plusSeconds(600));
		this.store.save(first);
		this.store.save(second);

		assertThat(first.dedupKey()).isEqualTo(second.dedupKey());
		assertThat(this.store.find(IncidentQuery.latest(10))).containsExactly(second, first);
	}

	@Test
	void timelineComesBackInTimeOrder() {
		this.store.save(incident("inc-t", IncidentKind.DDL_LOCK_QUEUE, IncidentState.OPEN, "prod", T0));
		this.store.save(incident("inc-other", IncidentKind.DDL_LOCK_QUEUE, IncidentState.OPEN, "prod", T0));
		TimelinePoint second = new TimelinePoint(T0.plusSeconds(5), 8, Duration.ofMillis(5_250));
		TimelinePoint first = new TimelinePoint(T0, 3, Duration.ofMillis(250));
		TimelinePoint third = new TimelinePoint(T0.plusSeconds(10), 37, null);
		// same instant as the third: the order of appending decides
		TimelinePoint fourth = new TimelinePoint(T0.plusSeconds(10), 36, Duration.ofSeconds(10));
		this.store.appendTimeline("inc-t", second);
		this.store.appendTimeline("inc-t", first);
		this.store.appendTimeline("inc-t", third);
		this.store.appendTimeline("inc-t", fourth);
		this.store.appendTimeline("inc-other", new TimelinePoint(T0, 1, Duration.ZERO));

		assertThat(this.store.timeline("inc-t")).containsExactly(first, second, third, fourth);
		assertThat(this.store.timeline("inc-other")).containsExactly(new TimelinePoint(T0, 1, Duration.ZERO));
		assertThat(this.store.timeline("inc-unknown")).isEmpty();
	}

	@Test
	void movingTheLastTimelinePointReplacesTheNewestRowOnly() {
		this.store.save(incident("inc-move", IncidentKind.DDL_LOCK_QUEUE, IncidentState.OPEN, "prod", T0));
		this.store.save(incident("inc-still", IncidentKind.DDL_LOCK_QUEUE, IncidentState.OPEN, "prod", T0));
		TimelinePoint first = new TimelinePoint(T0, 3, Duration.ofMillis(250));
		this.store.appendTimeline("inc-still", first);
		// with no row yet, it adds one
		this.store.moveLastTimelinePoint("inc-move", first);
		this.store.appendTimeline("inc-move", new TimelinePoint(T0.plusSeconds(1), 3, Duration.ofMillis(1_250)));
		TimelinePoint latest = new TimelinePoint(T0.plusSeconds(30), 3, Duration.ofMillis(30_250));
		this.store.moveLastTimelinePoint("inc-move", new TimelinePoint(T0.plusSeconds(2), 3, Duration.ofMillis(2_250)));
		this.store.moveLastTimelinePoint("inc-move", latest);
		assertThat(this.store.timeline("inc-move")).containsExactly(first, latest);
		assertThat(this.store.timeline("inc-still")).containsExactly(first);
	}

	@Test
	void timelineOfUnknownIncidentIsRefused() {
		assertThatExceptionOfType(DataIntegrityViolationException.class)
			.isThrownBy(() -> this.store.appendTimeline("inc-unknown", new TimelinePoint(T0, 1, Duration.ZERO)));
	}

	@Test
	void peakGraphRoundTripsLargeJson() {
		this.store.save(incident("inc-graph", IncidentKind.DDL_LOCK_QUEUE, IncidentState.OPEN, "prod", T0));
		String graph = largeGraphJson();
		assertThat(graph.length()).isGreaterThan(200_000);

		assertThat(this.store.peakGraph("inc-graph")).isEmpty();
		this.store.savePeakGraph("inc-graph", graph);
		assertThat(this.store.peakGraph("inc-graph")).contains(graph);
		this.store.savePeakGraph("inc-graph", "{\"nodes\":[]}");
		assertThat(this.store.peakGraph("inc-graph")).contains("{\"nodes\":[]}");
		this.store.savePeakGraph("inc-graph", null);
		assertThat(this.store.peakGraph("inc-graph")).isEmpty();
	}

	@Test
	void peakGraphOfUnknownIncident() {
		assertThat(this.store.peakGraph("inc-unknown")).isEmpty();
		assertThatExceptionOfType(EmptyResultDataAccessException.class)
			.isThrownBy(() -> this.store.savePeakGraph("inc-unknown", "{}"))
			.withMessageContaining("inc-unknown");
	}

	@Test
	void findActiveReturnsOpenAndEscalatedOldestFirst() {
		Incident escalated = incident("inc-1", IncidentKind.DDL_LOCK_QUEUE, IncidentState.ESCALATED, "prod", T0);
		Incident resolved = incident("inc-2", IncidentKind.DDL_LOCK_QUEUE, IncidentState.RESOLVED, "prod",
				T0.plusSeconds(1));
		Incident open = incident("inc-3", IncidentKind.IDLE_BLOCKER, IncidentState.OPEN, "staging", T0.plusSeconds(2));
		List.of(open, resolved, escalated).forEach(this.store::save);

		assertThat(this.store.findActive()).containsExactly(escalated, open);
		assertThat(this.store.countActive()).isEqualTo(2);
	}

	@Test
	void findActiveOnEmptyStore() {
		assertThat(this.store.findActive()).isEmpty();
		assertThat(this.store.countActive()).isZero();
	}

	@Test
	void findFiltersByStateTargetAndKindNewestFirst() {
		Incident a = incident("inc-a", IncidentKind.DDL_LOCK_QUEUE, IncidentState.RESOLVED, "prod", T0);
		Incident b = incident("inc-b", IncidentKind.BLOCKING_CHAIN, IncidentState.OPEN, "prod", T0.plusSeconds(10));
		Incident c = incident("inc-c", IncidentKind.DDL_LOCK_QUEUE, IncidentState.ESCALATED, "staging",
				T0.plusSeconds(20));
		Incident d = incident("inc-d", IncidentKind.DDL_LOCK_QUEUE, IncidentState.OPEN, "prod", T0.plusSeconds(30));
		Incident e = incident("inc-e", IncidentKind.IDLE_BLOCKER, IncidentState.RESOLVED, "staging",
				T0.plusSeconds(40));
		List.of(c, a, e, b, d).forEach(this.store::save);

		assertThat(this.store.find(IncidentQuery.latest(100))).containsExactly(e, d, c, b, a);
		assertThat(this.store.find(new IncidentQuery(IncidentState.OPEN, null, null, 100))).containsExactly(d, c, b);
		assertThat(this.store.find(new IncidentQuery(IncidentState.RESOLVED, null, null, 100))).containsExactly(e, a);
		assertThat(this.store.find(new IncidentQuery(null, "prod", null, 100))).containsExactly(d, b, a);
		assertThat(this.store.find(new IncidentQuery(null, null, IncidentKind.DDL_LOCK_QUEUE, 100)))
			.containsExactly(d, c, a);
		assertThat(this.store.find(new IncidentQuery(IncidentState.OPEN, "prod", IncidentKind.DDL_LOCK_QUEUE, 100)))
			.containsExactly(d);
		assertThat(this.store.find(new IncidentQuery(null, "nowhere", null, 100))).isEmpty();
		assertThat(this.store.find(new IncidentQuery(null, "prod' OR 'x' = 'x", null, 100))).isEmpty();
	}

	@Test
	void findReturnsAtMostTheLimit() {
		for (int i = 0; i < 5; i++) {
			this.store.save(incident("inc-" + i, IncidentKind.IDLE_BLOCKER, IncidentState.RESOLVED, "prod",
					T0.plusSeconds(i)));
		}

		assertThat(this.store.find(IncidentQuery.latest(2))).extracting(Incident::id).containsExactly("inc-4", "inc-3");
		assertThat(this.store.find(new IncidentQuery(null, "prod", IncidentKind.IDLE_BLOCKER, 1)))
			.extracting(Incident::id)
			.containsExactly("inc-4");
	}

	@Test
	void queryNeedsAPositiveLimit() {
		assertThatIllegalArgumentException().isThrownBy(() -> IncidentQuery.latest(0)).withMessageContaining("limit");
	}

	@Test
	void pruneByAgeDeletesResolvedIncidentsWithTheirTimelines() {
		// opened and resolved long ago
		Incident old = resolved("inc-old", T0.minus(Duration.ofDays(40)), T0.minus(Duration.ofDays(39)));
		// opened long ago, resolved recently: resolution time counts
		Incident lateResolved = resolved("inc-late", T0.minus(Duration.ofDays(40)), T0.minus(Duration.ofDays(1)));
		Incident activeForAges = incident("inc-active", IncidentKind.IDLE_BLOCKER, IncidentState.ESCALATED, "prod",
				T0.minus(Duration.ofDays(60)));
		List.of(old, lateResolved, activeForAges).forEach(this.store::save);
		for (Incident incident : List.of(old, lateResolved, activeForAges)) {
			this.store.appendTimeline(incident.id(), new TimelinePoint(incident.openedAt(), 2, Duration.ofSeconds(3)));
			this.store.savePeakGraph(incident.id(), "{}");
		}

		assertThat(this.store.prune(T0.minus(Duration.ofDays(30)), Integer.MAX_VALUE)).isOne();

		assertThat(this.store.findById("inc-old")).isEmpty();
		assertThat(this.store.find(IncidentQuery.latest(10))).containsExactlyInAnyOrder(lateResolved, activeForAges);
		assertThat(timelineRows("inc-old")).isZero();
		assertThat(timelineRows("inc-late")).isOne();
		assertThat(timelineRows("inc-active")).isOne();
		assertThat(this.store.prune(T0.minus(Duration.ofDays(30)), Integer.MAX_VALUE)).isZero();
	}

	@Test
	void pruneByCountKeepsTheNewestAndEveryActiveIncident() {
		// oldest first: an active incident older than all resolved ones, and one among them
		Incident oldActive = incident("inc-0", IncidentKind.IDLE_BLOCKER, IncidentState.OPEN, "prod", T0);
		this.store.save(oldActive);
		for (int i = 1; i <= 6; i++) {
			Instant opened = T0.plusSeconds(i * 60L);
			Incident incident = (i == 3) ? incident("inc-" + i, IncidentKind.DDL_LOCK_QUEUE, IncidentState.ESCALATED,
					"prod", opened) : resolved("inc-" + i, opened, opened.plusSeconds(30));
			this.store.save(incident);
			this.store.appendTimeline(incident.id(), new TimelinePoint(opened, 4, Duration.ofSeconds(2)));
		}

		// 7 stored, keep 4: the 3 oldest resolved go (1, 2, 4); both active stay and count
		assertThat(this.store.prune(null, 4)).isEqualTo(3);
		assertThat(this.store.find(IncidentQuery.latest(10))).extracting(Incident::id)
			.containsExactly("inc-6", "inc-5", "inc-3", "inc-0");
		assertThat(timelineRows("inc-1") + timelineRows("inc-2") + timelineRows("inc-4")).isZero();
		assertThat(timelineRows("inc-3") + timelineRows("inc-5") + timelineRows("inc-6")).isEqualTo(3);

		// fewer than the active ones: every resolved one goes, the active ones stay
		assertThat(this.store.prune(null, 1)).isEqualTo(2);
		assertThat(this.store.find(IncidentQuery.latest(10))).extracting(Incident::id)
			.containsExactly("inc-3", "inc-0");
		assertThat(this.store.prune(null, 0)).isZero();
		assertThat(this.store.countActive()).isEqualTo(2);
	}

	@Test
	void pruneByAgeAndCountTogether() {
		this.store.save(resolved("inc-1", T0, T0.plusSeconds(10)));
		this.store.save(resolved("inc-2", T0.plusSeconds(100), T0.plusSeconds(110)));
		this.store.save(resolved("inc-3", T0.plusSeconds(200), T0.plusSeconds(210)));
		this.store.save(resolved("inc-4", T0.plusSeconds(300), T0.plusSeconds(310)));

		// inc-1 by age, then inc-2 as the oldest beyond the newest 2
		assertThat(this.store.prune(T0.plusSeconds(50), 2)).isEqualTo(2);
		assertThat(this.store.find(IncidentQuery.latest(10))).extracting(Incident::id)
			.containsExactly("inc-4", "inc-3");
	}

	@Test
	void pruneRefusesANegativeCount() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.store.prune(T0, -1))
			.withMessageContaining("keepNewest");
	}

	@Test
	void aRestartedStoreSeesTheSameHistory() {
		Incident open = new Incident("inc-restart", "prod|ddl-lock-queue|4242", "prod", IncidentKind.DDL_LOCK_QUEUE,
				Severity.WARNING, IncidentState.OPEN, T0, null, null, T0, ddlFacts(), rootSession(), 5, 5,
				Duration.ofSeconds(5), "shop");
		this.store.save(open);
		this.store.appendTimeline("inc-restart", new TimelinePoint(T0, 5, Duration.ofSeconds(5)));
		this.store.savePeakGraph("inc-restart", "{\"peak\":5}");

		// a second run of the service: its own data source, client and store
		IncidentStore restarted = new IncidentStore(JdbcClient.create(this.database.newDataSource(DATABASE)));
		assertThat(restarted.findActive()).containsExactly(open);
		assertThat(restarted.timeline("inc-restart")).containsExactly(new TimelinePoint(T0, 5, Duration.ofSeconds(5)));
		assertThat(restarted.peakGraph("inc-restart")).contains("{\"peak\":5}");

		Incident escalated = new Incident("inc-restart", open.dedupKey(), "prod", IncidentKind.DDL_LOCK_QUEUE,
				Severity.CRITICAL, IncidentState.ESCALATED, T0, T0.plusSeconds(60), null, T0.plusSeconds(60),
				ddlFacts(), rootSession(), 40, 40, Duration.ofSeconds(65), "shop");
		restarted.save(escalated);
		restarted.appendTimeline("inc-restart", new TimelinePoint(T0.plusSeconds(60), 40, Duration.ofSeconds(65)));

		assertThat(this.store.findById("inc-restart")).contains(escalated);
		assertThat(this.store.timeline("inc-restart")).hasSize(2);
		assertThat(this.store.countActive()).isOne();
	}

	private Instant column(String id, String column) {
		// the column name is one of this test's constants, never input
		return this.jdbc.sql("SELECT " + column + " FROM incident WHERE id = :id")
			.param("id", id)
			.query((rs, rowNum) -> rs.getObject(1, OffsetDateTime.class).toInstant())
			.single();
	}

	private long timelineRows(String incidentId) {
		return this.jdbc.sql("SELECT count(*) FROM incident_timeline WHERE incident_id = :id")
			.param("id", incidentId)
			.query(Long.class)
			.single();
	}

	/** The waiting ALTER TABLE, with every fact set. */
	private static DdlFacts ddlFacts() {
		SessionFacts session = new SessionFacts(4242, Instant.parse("2025-11-23T17:00:00.000001Z"), "active",
				"flyway-migrate", "deployer", "10.0.0.7/32", "shop", T0.minusSeconds(95), Duration.ofMillis(95_321),
				Duration.ZERO, "ALTER TABLE \"Users\" ADD COLUMN note text DEFAULT 'ünïcødé ✓'; -- " + "x".repeat(5_000),
				"ALTER TABLE", null);
		return new DdlFacts(session, LockMode.ACCESS_EXCLUSIVE, "public.\"Users\"", Duration.ofMillis(95_321));
	}

	/** The session idle in transaction at the end of the queue, with every fact set. */
	private static SessionFacts rootSession() {
		return new SessionFacts(1717, Instant.parse("2025-11-23T16:00:00Z"), "idle in transaction", "reporting",
				"analyst", "2001:db8::17", "shop", T0.minusSeconds(600), Duration.ofSeconds(600),
				Duration.ofMillis(599_999), "SELECT * FROM users WHERE id = $1", "SELECT", "gid-unused");
	}

	private static Incident incident(String id, IncidentKind kind, IncidentState state, String target,
			Instant openedAt) {
		Instant escalatedAt = (state != IncidentState.OPEN) ? openedAt.plusSeconds(30) : null;
		Instant resolvedAt = (state == IncidentState.RESOLVED) ? openedAt.plusSeconds(90) : null;
		DdlFacts ddl = (kind == IncidentKind.DDL_LOCK_QUEUE) ? ddlFacts() : null;
		return new Incident(id, target + "|" + kind.label() + "|1717", target, kind,
				(escalatedAt != null) ? Severity.CRITICAL : Severity.WARNING, state, openedAt, escalatedAt, resolvedAt,
				openedAt.plusSeconds(60), ddl, rootSession(), (resolvedAt != null) ? 0 : 9, 9, Duration.ofSeconds(60),
				"shop");
	}

	private static Incident resolved(String id, Instant openedAt, Instant resolvedAt) {
		return new Incident(id, "prod|blocking-chain|" + id, "prod", IncidentKind.BLOCKING_CHAIN, Severity.WARNING,
				IncidentState.RESOLVED, openedAt, null, resolvedAt, resolvedAt, null, rootSession(), 0, 6,
				Duration.ofSeconds(20), "shop");
	}

	/** A lock-wait graph of 1000 sessions as JSON, about 250 KB. */
	private static String largeGraphJson() {
		StringBuilder json = new StringBuilder("{\"nodes\":[");
		for (int pid = 1; pid <= 1000; pid++) {
			if (pid > 1) {
				json.append(',');
			}
			json.append("{\"pid\":").append(pid)
				.append(",\"application\":\"api-").append(pid % 7)
				.append("\",\"state\":\"active\",\"waitingFor\":\"AccessShareLock\",\"relation\":\"public.\\\"Users\\\"\"")
				.append(",\"query\":\"SELECT * FROM users WHERE email = $1 AND name <> 'Zoë ✓' -- ")
				.append("q".repeat(100))
				.append("\",\"blockedBy\":[").append(pid - 1).append("]}");
		}
		return json.append("]}").toString();
	}

}

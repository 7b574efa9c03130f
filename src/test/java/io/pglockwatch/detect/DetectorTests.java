package io.pglockwatch.detect;

import java.time.Duration;
import java.util.List;

import io.pglockwatch.graph.SnapshotFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.graph.SnapshotFixture.transaction;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static io.pglockwatch.lock.LockMode.EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.SHARE;
import static org.assertj.core.api.Assertions.assertThat;

class DetectorTests {

	private static final long USERS = 20001;

	private static final Thresholds DEFAULTS = Thresholds.defaults();

	/** A holder, a DDL that has waited {@code ddlWait} seconds, and {@code queued} readers behind it. */
	static SnapshotFixture alterQueue(int queued, double ddlWait) {
		SnapshotFixture f = new SnapshotFixture().name(USERS, "public", "users")
			.session(100, "reporting", "active")
			.sessionStartedAt(200, "migrate", 120)
			.holds(100, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, ddlWait);
		for (int i = 1; i <= queued; i++) {
			f.session(300 + i, "api", "active").waits(300 + i, relation(USERS), ACCESS_SHARE, ddlWait - 0.1 * i);
		}
		return f;
	}

	private static List<Finding> detect(SnapshotFixture fixture) {
		return Detector.detect(fixture.graph(), DEFAULTS);
	}

	@ParameterizedTest(name = "{0} queued, DDL waited {1}s -> qualifies {2}")
	@CsvSource({ "2, 5, false", "3, 5, true", "4, 5, true", "3, 1.999, false", "3, 2, true", "3, 2.001, true" })
	void ddlQueueOpensAtMinQueuedAndMinWait(int queued, double wait, boolean qualifies) {
		assertThat(detect(alterQueue(queued, wait))).singleElement().satisfies((f) -> {
			assertThat(f.kind()).isEqualTo(IncidentKind.DDL_LOCK_QUEUE);
			assertThat(f.qualifies()).isEqualTo(qualifies);
		});
	}

	@ParameterizedTest(name = "{0} queued, DDL waited {1}s -> {2}")
	@CsvSource({ "19, 5, WARNING", "20, 5, CRITICAL", "21, 5, CRITICAL", "3, 29.999, WARNING", "3, 30, CRITICAL" })
	void ddlQueueTurnsCriticalAtCriticalQueuedOrWait(int queued, double wait, Severity severity) {
		assertThat(detect(alterQueue(queued, wait))).singleElement()
			.satisfies((f) -> assertThat(f.severity()).isEqualTo(severity));
	}

	@ParameterizedTest(name = "{0}, DDL waited {1}s -> qualifies {2}")
	@CsvSource({ "pglockwatch-gate V42 attempt 3/10, 5, false", "pglockwatch-gate V42 attempt 3/10, 9.999, false",
			"pglockwatch-gate V42 attempt 3/10, 10, true", "pglockwatch-gate V42 attempt 3/10, 42, true",
			"pglockwatch-gate watcher, 5, true", "migrate, 5, true" })
	void aDdlTheGateRunsOpensNoIncidentUntilItOutlivesTheGateGrace(String application, double wait,
			boolean qualifies) {
		SnapshotFixture f = alterQueue(5, wait);
		f.session(200, application, "active").query(200, "ALTER TABLE users ADD COLUMN note text");
		assertThat(detect(f)).singleElement().satisfies((finding) -> assertThat(finding.qualifies()).isEqualTo(qualifies));
	}

	@Test
	void theGatesApplicationNameNamesTheMigrationAndTheAttempt() {
		assertThat(GateAttempt.of("pglockwatch-gate V42 attempt 3/10"))
			.isEqualTo(new GateAttempt("V42", 3, 10));
		assertThat(GateAttempt.of("pglockwatch-gate V42 attempt 3/10").describe())
			.isEqualTo("migration V42, attempt 3/10 (pg-lockwatch gate)");
		assertThat(GateAttempt.of("pglockwatch-gate watcher")).isNull();
		assertThat(GateAttempt.of("migrate")).isNull();
		assertThat(GateAttempt.of(null)).isNull();
	}

	@Test
	void ddlFindingNamesTheDdlAndTheRootBlocker() {
		Finding finding = detect(alterQueue(5, 42)).get(0);
		assertThat(finding.ddl().session().pid()).isEqualTo(200);
		assertThat(finding.ddl().session().commandTag()).isEqualTo("ALTER TABLE");
		assertThat(finding.ddl().mode()).isEqualTo(ACCESS_EXCLUSIVE);
		assertThat(finding.ddl().relation()).isEqualTo("public.users");
		assertThat(finding.ddl().waited()).isEqualTo(Duration.ofSeconds(42));
		assertThat(finding.rootBlocker().pid()).isEqualTo(100);
		assertThat(finding.rootBlocker().applicationName()).isEqualTo("reporting");
		assertThat(finding.queueDepth()).isEqualTo(5);
		assertThat(finding.maxWait()).isEqualTo(Duration.ofSeconds(42));
		assertThat(finding.database()).isEqualTo("lab");
	}

	@Test
	void idleRootBehindADdlQueueIsOneFindingNamingIt() {
		SnapshotFixture f = new SnapshotFixture().name(USERS, "public", "users")
			.idleSession(100, "reporting", 600)
			.sessionStartedAt(200, "migrate", 120)
			.holds(100, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 60);
		for (int i = 1; i <= 10; i++) {
			f.waits(300 + i, relation(USERS), ACCESS_SHARE, 50);
		}
		assertThat(detect(f)).singleElement().satisfies((finding) -> {
			assertThat(finding.kind()).isEqualTo(IncidentKind.DDL_LOCK_QUEUE);
			assertThat(finding.rootBlocker().state()).isEqualTo("idle in transaction");
			assertThat(finding.rootBlocker().idleFor()).isEqualTo(Duration.ofSeconds(600));
		});
	}

	static SnapshotFixture rowChain(int blocked, double longestWait, boolean idleRoot, double idleSeconds) {
		SnapshotFixture f = new SnapshotFixture();
		if (idleRoot) {
			f.idleSession(100, "worker", idleSeconds);
		}
		else {
			f.session(100, "worker", "active");
		}
		f.holds(100, transaction(900), EXCLUSIVE);
		for (int i = 1; i <= blocked; i++) {
			f.waits(200 + i, transaction(900), SHARE, i == 1 ? longestWait : longestWait / 2);
		}
		return f;
	}

	@ParameterizedTest(name = "{0} blocked, longest wait {1}s -> qualifies {2}")
	@CsvSource({ "4, 60, false", "5, 60, true", "6, 60, true", "5, 29.999, false", "5, 30, true" })
	void blockingChainOpensAtMinBlockedAndMinWait(int blocked, double wait, boolean qualifies) {
		assertThat(detect(rowChain(blocked, wait, false, 0))).singleElement().satisfies((f) -> {
			assertThat(f.kind()).isEqualTo(IncidentKind.BLOCKING_CHAIN);
			assertThat(f.qualifies()).isEqualTo(qualifies);
			assertThat(f.queueDepth()).isEqualTo(blocked);
			assertThat(f.ddl()).isNull();
		});
	}

	@ParameterizedTest(name = "idle {0}s -> qualifies {1}")
	@CsvSource({ "29.999, false", "30, true", "31, true" })
	void idleBlockerOpensAtMinIdleAndIsNotAlsoABlockingChain(double idle, boolean qualifies) {
		assertThat(detect(rowChain(10, 60, true, idle))).singleElement().satisfies((f) -> {
			assertThat(f.kind()).isEqualTo(IncidentKind.IDLE_BLOCKER);
			assertThat(f.qualifies()).isEqualTo(qualifies);
			assertThat(f.rootBlocker().idleFor()).isEqualTo(Duration.ofMillis((long) (idle * 1000)));
		});
	}

	@Test
	void aDdlThatWaitsAloneIsNoDdlFinding() {
		assertThat(detect(alterQueue(0, 60))).singleElement()
			.satisfies((f) -> assertThat(f.kind()).isEqualTo(IncidentKind.BLOCKING_CHAIN));
	}

	@Test
	void dedupKeyIsDerivedFromTargetKindPidAndBackendStart() {
		String key = detect(alterQueue(3, 5)).get(0).dedupKey();
		assertThat(key).isEqualTo(detect(alterQueue(5, 30)).get(0).dedupKey());
		assertThat(key).startsWith("orders/ddl-lock-queue/200@");
		SnapshotFixture otherSession = alterQueue(3, 5).sessionStartedAt(200, "migrate", 60);
		assertThat(detect(otherSession).get(0).dedupKey()).isNotEqualTo(key);
	}

	@Test
	void dedupKeyOfAPreparedTransactionUsesItsGidAndFitsPagerDuty() {
		SessionFacts prepared = new SessionFacts(0, null, "prepared", null, "app", null, "lab", null, null, null, null,
				null, "x".repeat(300));
		String key = Detector.dedupKey("orders", IncidentKind.BLOCKING_CHAIN, prepared);
		assertThat(key).startsWith("orders/blocking-chain/gid:xxx").hasSizeLessThanOrEqualTo(240);
	}

	/** A hot standby: its startup process replays an ACCESS EXCLUSIVE lock on users; {@code readers} wait behind it. */
	static SnapshotFixture replayQueue(int readers, double wait) {
		SnapshotFixture f = new SnapshotFixture().name(USERS, "public", "users").replayHolds(31, relation(USERS), ACCESS_EXCLUSIVE);
		for (int i = 0; i < readers; i++) {
			f.session(400 + i, "report", "active").waits(400 + i, relation(USERS), ACCESS_SHARE, wait - 0.1 * i);
		}
		return f;
	}

	@Test
	void readersBehindAReplayedLockAreAReplayLockQueueWithReplayAsItsRoot() {
		List<Finding> findings = Detector.detect(replayQueue(4, 3).graph(), DEFAULTS);
		assertThat(findings).singleElement().satisfies((finding) -> {
			assertThat(finding.kind()).isEqualTo(IncidentKind.REPLAY_LOCK_QUEUE);
			assertThat(finding.qualifies()).isTrue();
			assertThat(finding.queueDepth()).isEqualTo(4);
			assertThat(finding.rootBlocker().pid()).isEqualTo(31);
			assertThat(finding.ddl().relation()).isEqualTo("public.users");
			assertThat(finding.ddl().mode()).isEqualTo(ACCESS_EXCLUSIVE);
			assertThat(finding.dedupKey()).startsWith("orders/replay-lock-queue/31@");
		});
		// the thresholds of a DDL queue: too few readers, or not long enough, opens nothing yet
		assertThat(Detector.detect(replayQueue(2, 3).graph(), DEFAULTS)).singleElement()
			.satisfies((finding) -> assertThat(finding.qualifies()).isFalse());
		assertThat(Detector.detect(replayQueue(4, 1).graph(), DEFAULTS)).singleElement()
			.satisfies((finding) -> assertThat(finding.qualifies()).isFalse());
	}

}

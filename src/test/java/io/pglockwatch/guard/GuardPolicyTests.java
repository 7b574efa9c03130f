package io.pglockwatch.guard;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import io.pglockwatch.detect.Detector;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.guard.GuardHistory.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static io.pglockwatch.graph.SnapshotFixture.NOW;
import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static io.pglockwatch.lock.LockMode.ROW_EXCLUSIVE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * The guard's decisions as a table: a configuration and a series of polls of one target (graphs built from rows, as
 * pg_locks would show them) against what the guard decides at which poll. Every signal in these cases succeeds, as
 * the guard reports back a cancel that did. The situations mirror docs/guard.md; min-queued is 3 throughout.
 */
class GuardPolicyTests {

	private static final int MIN_QUEUED = 3;

	private static final long USERS = 20001;

	private static final long ORDERS = 20002;

	private static final long INVOICES = 20003;

	/**
	 * The ALTER TABLE incident on users, {@code at} seconds after {@link SnapshotFixture#NOW}: holder 100 (app api)
	 * idle in transaction, DDL 200 (app migrate) waiting for ACCESS EXCLUSIVE, and {@code queued} readers 301...
	 * behind it.
	 */
	private static SnapshotFixture ddlQueue(double at, int queued) {
		SnapshotFixture f = new SnapshotFixture().at(at)
			.name(USERS, "public", "users")
			.idleSession(100, "api", 60)
			.holds(100, relation(USERS), ACCESS_SHARE);
		return readers(f.session(200, "migrate", "active").waits(200, relation(USERS), ACCESS_EXCLUSIVE, 30), queued);
	}

	private static SnapshotFixture readers(SnapshotFixture f, int queued) {
		for (int i = 1; i <= queued; i++) {
			f.session(300 + i, "api", "active").waits(300 + i, relation(USERS), ACCESS_SHARE, 30 - i);
		}
		return f;
	}

	/** Like {@link #ddlQueue} with an active holder: a root blocker that is not idle in transaction. */
	private static LockWaitGraph activeHolder(double at) {
		SnapshotFixture f = new SnapshotFixture().at(at)
			.session(100, "report", "active")
			.holds(100, relation(USERS), ACCESS_SHARE);
		return readers(f.session(200, "migrate", "active").waits(200, relation(USERS), ACCESS_EXCLUSIVE, 30), 3)
			.graph();
	}

	/** Like {@link #ddlQueue} with a prepared transaction (pid 0) as the holder. */
	private static LockWaitGraph preparedHolder(double at) {
		SnapshotFixture f = new SnapshotFixture().at(at).preparedHolds("-1/731", "migration-42", relation(USERS),
				ROW_EXCLUSIVE);
		return readers(f.session(200, "migrate", "active").waits(200, relation(USERS), ACCESS_EXCLUSIVE, 30), 3)
			.graph();
	}

	/** A DDL whose pg_stat_activity row was not read (the session ended between the reads). */
	private static LockWaitGraph ddlWithoutActivity(double at) {
		SnapshotFixture f = new SnapshotFixture().at(at)
			.idleSession(100, "api", 60)
			.holds(100, relation(USERS), ACCESS_SHARE)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 30);
		return readers(f, 3).graph();
	}

	/** The DDL 200 run by pg-lockwatch's own session. */
	private static LockWaitGraph ownDdl(double at) {
		SnapshotFixture f = new SnapshotFixture().at(at)
			.idleSession(100, "api", 60)
			.holds(100, relation(USERS), ACCESS_SHARE)
			.session(200, "pg-lockwatch", "active")
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 30);
		return readers(f, 3).graph();
	}

	/** Pid 200 reused by another session (a later backend_start), again waiting with 3 queued. */
	private static LockWaitGraph reusedPid(double at) {
		SnapshotFixture f = new SnapshotFixture().at(at)
			.idleSession(100, "api", 60)
			.holds(100, relation(USERS), ACCESS_SHARE)
			.sessionStartedAt(200, "migrate", 1)
			.waits(200, relation(USERS), ACCESS_EXCLUSIVE, 1);
		for (int i = 1; i <= 3; i++) {
			f.session(300 + i, "api", "active").waits(300 + i, relation(USERS), ACCESS_SHARE, 1 - i / 10.0);
		}
		return f.graph();
	}

	/** Three queued readers, but one of them is parallel query leader 301 with workers 311 and 312 waiting too. */
	private static LockWaitGraph parallelReaders(double at, int moreReaders) {
		SnapshotFixture f = ddlQueue(at, 0).session(301, "report", "active")
			.session(311, 301, "report", "active")
			.session(312, 301, "report", "active")
			.waits(301, relation(USERS), ACCESS_SHARE, 20)
			.waits(311, relation(USERS), ACCESS_SHARE, 20)
			.waits(312, relation(USERS), ACCESS_SHARE, 20);
		for (int i = 1; i <= moreReaders; i++) {
			f.session(320 + i, "api", "active").waits(320 + i, relation(USERS), ACCESS_SHARE, 10);
		}
		return f.graph();
	}

	/** Nothing waits: holder 100 is still idle in transaction, but blocks no one. */
	private static LockWaitGraph calm(double at) {
		return new SnapshotFixture().at(at).idleSession(100, "api", 60).holds(100, relation(USERS), ACCESS_SHARE).graph();
	}

	/**
	 * After the guard cancelled DDL 200 inside a migration transaction with savepoints: 200 is idle in its aborted
	 * transaction and still holds ACCESS EXCLUSIVE on orders (its first ALTER), with 3 readers of orders waiting.
	 */
	private static LockWaitGraph abortedMigration(double at) {
		SnapshotFixture f = new SnapshotFixture().at(at)
			.idleSession(200, "migrate", 1)
			.holds(200, relation(ORDERS), ACCESS_EXCLUSIVE);
		for (int i = 1; i <= 3; i++) {
			f.session(400 + i, "api", "active").waits(400 + i, relation(ORDERS), ACCESS_SHARE, 1);
		}
		return f.graph();
	}

	/**
	 * Two DDL queues at once: 200 on users with {@code usersQueued} behind it, and 500 (app migrate-b) on invoices,
	 * held by idle 600, with {@code invoicesQueued} behind it.
	 */
	private static LockWaitGraph twoQueues(double at, int usersQueued, int invoicesQueued) {
		SnapshotFixture f = ddlQueue(at, usersQueued).idleSession(600, "billing", 60)
			.holds(600, relation(INVOICES), ACCESS_SHARE)
			.session(500, "migrate-b", "active")
			.waits(500, relation(INVOICES), ACCESS_EXCLUSIVE, 30);
		for (int i = 1; i <= invoicesQueued; i++) {
			f.session(700 + i, "api", "active").waits(700 + i, relation(INVOICES), ACCESS_SHARE, 20);
		}
		return f.graph();
	}

	private static LockWaitGraph queue(double at, int queued) {
		return ddlQueue(at, queued).graph();
	}

	private static GuardProperties guard(GuardMode mode, int cancelAfter, int terminateAfter) {
		return guard(mode, cancelAfter, terminateAfter, List.of(), List.of());
	}

	private static GuardProperties guard(GuardMode mode, int cancelAfter, int terminateAfter, List<String> apps,
			List<String> users) {
		return new GuardProperties(mode, Duration.ofSeconds(cancelAfter), Duration.ofSeconds(terminateAfter), apps,
				users);
	}

	private static final GuardProperties ENFORCE = guard(GuardMode.ENFORCE, 10, 0);

	private static final GuardProperties ENFORCE_AND_TERMINATE = guard(GuardMode.ENFORCE, 60, 5);

	/** One row of the table: the guard's settings, the polls of one target, and the decisions, each as it is made. */
	record Case(String name, GuardProperties config, List<LockWaitGraph> polls, List<String> decisions) {

		@Override
		public String toString() {
			return this.name;
		}

	}

	private static Case row(String name, GuardProperties config, List<LockWaitGraph> polls, String... decisions) {
		return new Case(name, config, polls, List.of(decisions));
	}

	static Stream<Case> cases() {
		return Stream.of(
				row("mode off decides nothing", guard(GuardMode.OFF, 10, 5),
						List.of(queue(0, 5), queue(10, 5), queue(60, 5))),
				row("a queue below min-queued is left alone", ENFORCE, List.of(queue(0, 2), queue(10, 2), queue(60, 2))),
				row("at min-queued for less than cancel-ddl-after: not yet", ENFORCE, List.of(queue(0, 3), queue(9.9, 3))),
				row("at min-queued for exactly cancel-ddl-after: cancel", ENFORCE, List.of(queue(0, 3), queue(10, 3)),
						"@10 cancel-ddl pid 200: signal"),
				row("beyond cancel-ddl-after at the first poll after the threshold", ENFORCE,
						List.of(queue(0, 4), queue(7, 4), queue(14, 4)), "@14 cancel-ddl pid 200: signal"),
				row("the first poll already sees a queue: counted from that poll", ENFORCE,
						List.of(queue(30, 3), queue(39, 3), queue(40, 3)), "@40 cancel-ddl pid 200: signal"),
				row("counted from when the queue first reached min-queued, not from when it formed", ENFORCE,
						List.of(queue(0, 1), queue(5, 2), queue(8, 3), queue(17, 3), queue(18, 3)),
						"@18 cancel-ddl pid 200: signal"),
				// today's behaviour: once reached, the timer runs on while the DDL heads any queue at all
				row("a queue that dropped below min-queued keeps its timer", ENFORCE,
						List.of(queue(0, 3), queue(5, 1), queue(10, 1)), "@10 cancel-ddl pid 200: signal"),
				row("a queue that dropped below and came back keeps its timer", ENFORCE,
						List.of(queue(0, 3), queue(4, 2), queue(8, 3), queue(10, 3)), "@10 cancel-ddl pid 200: signal"),
				row("a queue that drained and formed again starts over", ENFORCE,
						List.of(queue(0, 3), queue(5, 0), queue(6, 3), queue(15, 3), queue(16, 3)),
						"@16 cancel-ddl pid 200: signal"),
				row("a DDL that stopped waiting and waits again starts over", ENFORCE,
						List.of(queue(0, 3), calm(5), queue(6, 3), queue(15, 3), queue(16, 3)),
						"@16 cancel-ddl pid 200: signal"),
				row("dry-run decides but signals nothing", guard(GuardMode.DRY_RUN, 10, 0),
						List.of(queue(0, 3), queue(10, 3)), "@10 cancel-ddl pid 200: dry-run"),
				row("decided once per session, not at every later poll", ENFORCE,
						List.of(queue(0, 3), queue(10, 3), queue(11, 3), queue(60, 8)), "@10 cancel-ddl pid 200: signal"),
				row("dry-run also decides once", guard(GuardMode.DRY_RUN, 10, 0),
						List.of(queue(0, 3), queue(10, 3), queue(20, 3)), "@10 cancel-ddl pid 200: dry-run"),
				row("a DDL seen again after it was gone is decided about again", ENFORCE,
						List.of(queue(0, 3), queue(10, 3), calm(11), queue(12, 3), queue(22, 3)),
						"@10 cancel-ddl pid 200: signal", "@22 cancel-ddl pid 200: signal"),
				row("a reused pid is another session with its own timer", ENFORCE,
						List.of(queue(0, 3), queue(10, 3), reusedPid(12), reusedPid(21), reusedPid(22)),
						"@10 cancel-ddl pid 200: signal", "@22 cancel-ddl pid 200: signal"),
				row("an excluded application is recorded as excluded, once",
						guard(GuardMode.ENFORCE, 10, 0, List.of("migrate"), List.of()),
						List.of(queue(0, 3), queue(10, 3), queue(20, 3)), "@10 cancel-ddl pid 200: excluded"),
				row("an excluded user is recorded as excluded", guard(GuardMode.ENFORCE, 10, 0, List.of(), List.of("app")),
						List.of(queue(0, 3), queue(10, 3)), "@10 cancel-ddl pid 200: excluded"),
				row("excluded wins over dry-run", guard(GuardMode.DRY_RUN, 10, 0, List.of("migrate"), List.of()),
						List.of(queue(0, 3), queue(10, 3)), "@10 cancel-ddl pid 200: excluded"),
				row("another application is not excluded", guard(GuardMode.ENFORCE, 10, 0, List.of("api"), List.of()),
						List.of(queue(0, 3), queue(10, 3)), "@10 cancel-ddl pid 200: signal"),
				row("pg-lockwatch's own session is skipped", ENFORCE, List.of(ownDdl(0), ownDdl(10)),
						"@10 cancel-ddl pid 200: skipped"),
				row("a session whose activity was not read is skipped", ENFORCE,
						List.of(ddlWithoutActivity(0), ddlWithoutActivity(10)), "@10 cancel-ddl pid 200: skipped"),
				row("terminate-idle-blockers-after 0 never ends the idle holder", ENFORCE,
						List.of(queue(0, 3), queue(10, 3), queue(3600, 3)), "@10 cancel-ddl pid 200: signal"),
				row("terminate-idle-blockers-after ends an idle-in-transaction root blocker", ENFORCE_AND_TERMINATE,
						List.of(queue(0, 3), queue(4.9, 3), queue(5, 3), queue(6, 3)),
						"@5 terminate-idle-blocker pid 100: signal"),
				row("terminate is counted from the first poll that saw it blocking, whatever its idle time",
						ENFORCE_AND_TERMINATE, List.of(queue(100, 1), queue(104, 1), queue(105, 1)),
						"@105 terminate-idle-blocker pid 100: signal"),
				row("terminate in dry-run", guard(GuardMode.DRY_RUN, 60, 5), List.of(queue(0, 3), queue(5, 3)),
						"@5 terminate-idle-blocker pid 100: dry-run"),
				row("cancel and terminate are separate decisions", guard(GuardMode.ENFORCE, 5, 5),
						List.of(queue(0, 3), queue(5, 3), queue(6, 3)), "@5 cancel-ddl pid 200: signal",
						"@5 terminate-idle-blocker pid 100: signal"),
				row("an excluded idle holder is recorded as excluded",
						guard(GuardMode.ENFORCE, 60, 5, List.of("api"), List.of()), List.of(queue(0, 3), queue(5, 3)),
						"@5 terminate-idle-blocker pid 100: excluded"),
				row("an active root blocker is never ended", ENFORCE_AND_TERMINATE,
						List.of(activeHolder(0), activeHolder(5), activeHolder(59))),
				row("a prepared transaction is never signalled, its DDL queue still is", guard(GuardMode.ENFORCE, 10, 5),
						List.of(preparedHolder(0), preparedHolder(5), preparedHolder(10), preparedHolder(600)),
						"@10 cancel-ddl pid 200: signal"),
				row("parallel workers count once, with their leader", ENFORCE,
						List.of(parallelReaders(0, 1), parallelReaders(10, 1), parallelReaders(60, 1))),
				row("a leader with workers is one of the queue", ENFORCE,
						List.of(parallelReaders(0, 2), parallelReaders(10, 2)), "@10 cancel-ddl pid 200: signal"),
				row("two DDL queues have their own timers", ENFORCE,
						List.of(twoQueues(0, 3, 1), twoQueues(5, 3, 3), twoQueues(10, 3, 3), twoQueues(15, 3, 3)),
						"@10 cancel-ddl pid 200: signal", "@15 cancel-ddl pid 500: signal"),
				row("a cancelled DDL whose transaction still blocks is reported, and left alone with terminate 0",
						ENFORCE, List.of(queue(0, 3), queue(10, 3), abortedMigration(11), abortedMigration(12),
								abortedMigration(600)),
						"@10 cancel-ddl pid 200: signal", "@11 watch-aborted-transaction pid 200: still-blocking"),
				row("a cancelled DDL whose transaction still blocks is reported, then ended", guard(GuardMode.ENFORCE, 10, 5),
						List.of(queue(0, 3), queue(10, 3), abortedMigration(11), abortedMigration(16)),
						"@10 cancel-ddl pid 200: signal", "@10 terminate-idle-blocker pid 100: signal",
						"@11 watch-aborted-transaction pid 200: still-blocking", "@16 terminate-idle-blocker pid 200: signal"),
				row("a dry-run cancel is not a cancel: nothing to watch", guard(GuardMode.DRY_RUN, 10, 0),
						List.of(queue(0, 3), queue(10, 3), abortedMigration(11)), "@10 cancel-ddl pid 200: dry-run"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("cases")
	void decides(Case row) {
		assertThat(run(row.config(), row.polls())).containsExactlyElementsOf(row.decisions());
	}

	private static List<String> run(GuardProperties config, List<LockWaitGraph> polls) {
		GuardPolicy policy = new GuardPolicy(config, "pg-lockwatch");
		GuardHistory history = GuardHistory.EMPTY;
		List<String> decided = new ArrayList<>();
		for (LockWaitGraph graph : polls) {
			GuardPolicy.Decisions result = policy.decide(graph, MIN_QUEUED, history, graph.takenAt());
			Set<Session> cancelled = new HashSet<>(result.history().cancelled());
			for (GuardDecision decision : result.decisions()) {
				decided.add("@" + seconds(graph.takenAt()) + " " + decision.action().label() + " pid "
						+ decision.session().pid() + ": " + (decision.signals() ? "signal" : decision.outcome().label()));
				if (decision.signals() && decision.action() == GuardAction.CANCEL_DDL) {
					cancelled.add(Session.of(decision.session()));
				}
			}
			history = result.history().withCancelled(cancelled);
		}
		return decided;
	}

	private static String seconds(Instant at) {
		long millis = Duration.between(NOW, at).toMillis();
		return (millis % 1000 == 0) ? Long.toString(millis / 1000) : Double.toString(millis / 1000.0);
	}

	@Test
	void aDecisionSaysWhyAndBelongsToTheIncidentOfItsQueue() {
		GuardPolicy policy = new GuardPolicy(guard(GuardMode.DRY_RUN, 10, 10), "pg-lockwatch");
		GuardHistory history = policy.decide(queue(0, 3), MIN_QUEUED, GuardHistory.EMPTY, NOW).history();
		LockWaitGraph graph = queue(12, 4);
		List<GuardDecision> decisions = policy.decide(graph, MIN_QUEUED, history, graph.takenAt()).decisions();
		String incident = "orders/ddl-lock-queue/200@" + (NOW.minusSeconds(600).getEpochSecond() * 1_000_000L);
		assertThat(decisions).extracting(GuardDecision::action, GuardDecision::incident, GuardDecision::reason)
			.containsExactly(
					tuple(GuardAction.CANCEL_DDL, incident,
							"would cancel-ddl: kept 4 sessions queued for 12 s (cancel-ddl-after 10 s)"),
					tuple(GuardAction.TERMINATE_IDLE_BLOCKER, incident,
							"would terminate-idle-blocker: idle in transaction and blocking 5 sessions for 12 s "
									+ "(terminate-idle-blockers-after 10 s)"));
	}

	@Test
	void aSignalCarriesTheStatementItWasDecidedOn() {
		GuardPolicy policy = new GuardPolicy(ENFORCE, "pg-lockwatch");
		GuardHistory history = policy.decide(queue(0, 3), MIN_QUEUED, GuardHistory.EMPTY, NOW).history();
		LockWaitGraph graph = queue(10, 3);
		GuardDecision decision = policy.decide(graph, MIN_QUEUED, history, graph.takenAt()).decisions().get(0);
		assertThat(decision.signals()).isTrue();
		assertThat(decision.outcome()).isNull();
		assertThat(decision.queryStart()).isEqualTo(graph.sessions().get(200).activity().queryStart());
		assertThat(decision.reason()).isEqualTo("kept 3 sessions queued for 10 s (cancel-ddl-after 10 s)");
	}

	@Test
	void anIdleBlockerOutsideADdlQueueBelongsToItsIdleBlockerIncident() {
		LockWaitGraph graph = new SnapshotFixture().idleSession(100, "api", 60)
			.holds(100, relation(USERS), ROW_EXCLUSIVE)
			.session(301, "api", "active")
			.waits(301, relation(USERS), ACCESS_EXCLUSIVE, 5)
			.graph();
		GuardPolicy policy = new GuardPolicy(guard(GuardMode.ENFORCE, 10, 0), "pg-lockwatch");
		GuardHistory history = policy.decide(graph, MIN_QUEUED, GuardHistory.EMPTY, NOW).history();
		GuardPolicy.Decisions result = new GuardPolicy(guard(GuardMode.ENFORCE, 10, 1), "pg-lockwatch").decide(graph,
				MIN_QUEUED, history, NOW.plusSeconds(1));
		assertThat(result.decisions()).singleElement()
			.satisfies((d) -> assertThat(d.incident()).startsWith("orders/idle-blocker/100@"));
	}

	@Test
	void theHistoryForgetsSessionsNoLongerSeenButKeepsTheCancelledOnes() {
		GuardPolicy policy = new GuardPolicy(ENFORCE_AND_TERMINATE, "pg-lockwatch");
		GuardHistory history = policy.decide(queue(0, 3), MIN_QUEUED, GuardHistory.EMPTY, NOW).history();
		assertThat(history.queueSince()).containsOnlyKeys(new Session(200, NOW.minusSeconds(600)));
		assertThat(history.blockingSince()).containsOnlyKeys(new Session(100, NOW.minusSeconds(600)));
		Set<Session> cancelled = Set.of(new Session(200, NOW.minusSeconds(600)));
		GuardHistory after = policy.decide(calm(1), MIN_QUEUED, history.withCancelled(cancelled), NOW.plusSeconds(1))
			.history();
		assertThat(after.queueSince()).isEmpty();
		assertThat(after.blockingSince()).isEmpty();
		assertThat(after.decided()).isEmpty();
		assertThat(after.cancelled()).isEqualTo(cancelled);
	}

	@Test
	void modeOffKeepsNoHistory() {
		GuardPolicy policy = new GuardPolicy(guard(GuardMode.OFF, 10, 5), "pg-lockwatch");
		GuardPolicy.Decisions result = policy.decide(queue(0, 5), MIN_QUEUED, GuardHistory.EMPTY, NOW);
		assertThat(result.decisions()).isEmpty();
		assertThat(result.history()).isEqualTo(GuardHistory.EMPTY);
	}

	@Test
	void anOperatorCancelIsRefusedForTheSameReasons() {
		GuardPolicy policy = new GuardPolicy(guard(GuardMode.OFF, 10, 0, List.of("migrate"), List.of()),
				"pg-lockwatch");
		LockWaitGraph graph = queue(0, 3);
		SessionNode ddl = graph.sessions().get(200);
		GuardDecision refusal = policy.refusal(GuardAction.CANCEL_DDL, ddl,
				Detector.facts(ddl, NOW), "incident");
		assertThat(refusal.outcome()).isEqualTo(GuardOutcome.EXCLUDED);
		assertThat(refusal.reason()).isEqualTo("excluded: application migrate");
		LockWaitGraph own = ownDdl(0);
		SessionNode ownNode = own.sessions().get(200);
		assertThat(policy.refusal(GuardAction.CANCEL_DDL, ownNode, Detector.facts(ownNode, NOW),
				"incident"))
			.extracting(GuardDecision::outcome, GuardDecision::reason)
			.containsExactly(GuardOutcome.SKIPPED, "skipped: pg-lockwatch's own session");
		LockWaitGraph other = queue(0, 3);
		SessionNode allowed = other.sessions().get(301);
		assertThat(policy.refusal(GuardAction.CANCEL_DDL, allowed, Detector.facts(allowed, NOW),
				"incident")).isNull();
	}

	@Test
	void labelsAreTheStoredNames() {
		assertThat(Stream.of(GuardAction.values()).map(GuardAction::label)).containsExactly("cancel-ddl",
				"terminate-idle-blocker", "watch-aborted-transaction");
		assertThat(Stream.of(GuardOutcome.values()).map(GuardOutcome::label)).containsExactly("cancelled", "terminated",
				"dry-run", "excluded", "skipped", "changed", "not-blocking", "gone", "not-permitted", "failed",
				"still-blocking");
		for (GuardOutcome outcome : GuardOutcome.values()) {
			assertThat(GuardOutcome.of(outcome.label())).isEqualTo(outcome);
		}
		for (GuardAction action : GuardAction.values()) {
			assertThat(GuardAction.of(action.label())).isEqualTo(action);
		}
	}

}

package io.pglockwatch.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.pglockwatch.testsupport.FakePagerDuty;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import io.pglockwatch.testsupport.ServiceProcess;
import io.pglockwatch.testsupport.StoreDatabase;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.convert.DurationStyle;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Two replicas of pg-lockwatch, each a process of its own as in production ({@link ServiceProcess}), on one
 * PostgreSQL store, watching one target where the ALTER TABLE incident is staged for real (an idle-in-transaction
 * reader, {@code ALTER TABLE accounts ADD COLUMN} waiting, 5 SELECTs queued behind it). Each round waits for the
 * trigger (received, and marked sent in the store), then stops the leader mid-incident, alternately with SIGKILL (a node that dies: its lease has to lapse
 * first) and SIGTERM (a rollout: it releases its lease on the way out), and measures the time from the stop to the
 * other replica saying it leads shard 0 ({@code thisReplica} in {@code GET /api/v1/cluster}, asked every 20 ms).
 * Once the new leader's polls record the incident under its id, the queue is ended and the resolve awaited; per round
 * the store must hold one incident for the situation and the stand-in for PagerDuty must have received one trigger and
 * one resolve for its dedup key. The stopped replica is started again under its name before the next round, so there
 * are always two.
 * <p>
 * Settings: the lease as given (default 10 s), poll 1 s, {@code min-wait} 2 s, {@code min-queued} 3 (the defaults),
 * {@code resolve-after} 2 s, PagerDuty on, guard off. Replica logs go to {@code target/replicas/}. Exits with 1 when
 * any round paged twice, resolved twice or opened a second incident. Run with
 * {@code bench/failover.sh [rounds] [lease]}.
 */
public final class FailoverBenchmark {

	private static final String ROUTING_KEY = "BENCHROUTINGKEYfa11over000000000";

	private static final String STORE = "lockwatch_failover_store";

	private static final Duration POLL = Duration.ofSeconds(1);

	private static final Duration RESOLVE_AFTER = Duration.ofSeconds(2);

	private static final Duration ASK_EVERY = Duration.ofMillis(20);

	/** After the resolve: long enough for a second resolve, or a late trigger, to arrive. */
	private static final Duration QUIET = RESOLVE_AFTER.plus(POLL).plusMillis(500);

	private static final int QUEUED = 5;

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private enum Stop {

		SIGKILL, SIGTERM

	}

	private FailoverBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int status;
		try {
			int rounds = (args.length > 0) ? Integer.parseInt(args[0]) : 10;
			Duration lease = (args.length > 1) ? DurationStyle.detectAndParse(args[1]) : Duration.ofSeconds(10);
			status = new FailoverBenchmark.Run(rounds, lease).run();
		}
		finally {
			PostgresServer.closeShared();
		}
		System.exit(status);
	}

	private static final class Run {

		private final int rounds;

		private final Duration lease;

		private final PostgresServer server = PostgresServer.shared();

		private final Map<String, ServiceProcess> replicas = new LinkedHashMap<>();

		private final ExecutorService stopper = Executors.newSingleThreadExecutor((r) -> {
			Thread thread = new Thread(r, "failover-stop");
			thread.setDaemon(true);
			return thread;
		});

		private FakePagerDuty pagerDuty;

		private JdbcClient store;

		private Map<String, String> properties;

		Run(int rounds, Duration lease) {
			this.rounds = rounds;
			this.lease = lease;
		}

		int run() throws Exception {
			// a run stopped with Ctrl-C leaves no replica behind
			Thread hook = new Thread(() -> this.replicas.values().forEach(ServiceProcess::kill), "failover-replicas");
			Runtime.getRuntime().addShutdownHook(hook);
			List<Round> done = new ArrayList<>();
			List<String> problems = new ArrayList<>();
			try (FakePagerDuty fake = FakePagerDuty.start(ROUTING_KEY)) {
				this.pagerDuty = fake;
				StoreDatabase.POSTGRESQL.recreateSchema(STORE);
				this.store = JdbcClient.create(StoreDatabase.POSTGRESQL.newDataSource(STORE));
				this.properties = properties(fake);
				String loadBefore = loadAverage();
				start("replica-a");
				awaitTrue("replica-a leads", Duration.ofSeconds(60), () -> leads(this.replicas.get("replica-a")));
				start("replica-b");
				for (int round = 1; round <= this.rounds; round++) {
					Round result = round(round, (round % 2 == 1) ? Stop.SIGKILL : Stop.SIGTERM);
					System.out.printf(Locale.ROOT, "round %d, %s: %s stopped, %s leads %d ms later; %d trigger(s), %d resolve(s), "
							+ "%d incident(s)%n", round, result.stop(), result.stopped(), result.successor(),
							result.takeoverMillis(), result.triggers(), result.resolves(), result.incidents());
					done.add(result);
					problems.addAll(result.problems());
				}
				// a late duplicate of any round (the outbox of a stopped replica sent again after its restart) shows here
				Thread.sleep(QUIET.toMillis());
				problems.addAll(wholeRunProblems(fake));
				print(done, problems, loadBefore);
			}
			finally {
				this.replicas.values().forEach(ServiceProcess::close);
				this.replicas.clear();
				Runtime.getRuntime().removeShutdownHook(hook);
				this.stopper.shutdownNow();
			}
			return problems.isEmpty() ? 0 : 1;
		}

		private Map<String, String> properties(FakePagerDuty fake) {
			Map<String, String> all = new LinkedHashMap<>(LabService.properties(this.server));
			// the defaults, not the integration tests' faster polls
			all.remove("pglockwatch.poll.statement-timeout");
			all.put("pglockwatch.poll.interval", POLL.toMillis() + "ms");
			all.put("spring.datasource.url", this.server.jdbcUrl(STORE));
			all.put("spring.datasource.username", this.server.superuser());
			all.put("spring.datasource.password", this.server.password());
			all.put("pglockwatch.cluster.lease", this.lease.toMillis() + "ms");
			all.put("pglockwatch.detection.resolve-after", RESOLVE_AFTER.toMillis() + "ms");
			all.put("pglockwatch.alerts.pagerduty.routing-key", ROUTING_KEY);
			all.put("pglockwatch.alerts.pagerduty.url", fake.url());
			all.put("pglockwatch.alerts.dashboard-url", "https://pglockwatch.example");
			all.put("pglockwatch.guard.mode", "off");
			return all;
		}

		private void start(String name) {
			this.replicas.put(name, ServiceProcess.start(name, this.properties));
		}

		private Round round(int round, Stop stop) throws Exception {
			// two replicas that agree on the leader and see each other
			awaitTrue("two replicas agree on one leader", Duration.ofSeconds(60), this::settled);
			String leaderName = leaderSeenBy(this.replicas.values().iterator().next());
			ServiceProcess leader = this.replicas.get(leaderName);
			ServiceProcess follower = this.replicas.values().stream().filter((r) -> r != leader).findFirst().orElseThrow();
			long epochBefore = cluster(follower).path("shards").path(0).path("epoch").asLong();
			int eventsBefore = this.pagerDuty.events().size();
			long incidentsBefore = incidentCount();
			List<String> problems = new ArrayList<>();
			long takeoverNanos;
			long exitedNanos;
			String dedupKey;
			String incidentId;
			boolean shownOpen;
			boolean seenAfterTakeover;
			long ended;
			try (LockScenario scenario = new LockScenario(this.server, PostgresServer.DEFAULT_DATABASE, "failover" + round)) {
				scenario.stageDdlQueue("accounts", "ADD COLUMN failover_note text", QUEUED);
				FakePagerDuty.Event trigger = awaitEvent(eventsBefore, "trigger", null, Duration.ofSeconds(30));
				dedupKey = trigger.dedupKey();
				String key = dedupKey;
				awaitTrue("the incident stored", Duration.ofSeconds(10), () -> incidentIds(key).size() == 1);
				incidentId = incidentIds(dedupKey).get(0);
				// stopped once its trigger is marked sent: a leader killed between PagerDuty's 202 and that mark has its
				// successor send the trigger again (at least once, same dedup key and event id, docs/alerting.md), which
				// is not what this measures
				awaitTrue("the trigger marked sent", Duration.ofSeconds(10), () -> triggerMarkedSent(key));

				AtomicLong exitedAt = new AtomicLong();
				long stopped = System.nanoTime();
				CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> {
					if (stop == Stop.SIGKILL) {
						leader.kill();
					}
					else {
						leader.close();
					}
					exitedAt.set(System.nanoTime());
				}, this.stopper);
				takeoverNanos = awaitLeads(follower, stopped, this.lease.multipliedBy(3).plusSeconds(30));
				Instant tookOver = Instant.now();
				stopping.get(60, TimeUnit.SECONDS);
				exitedNanos = exitedAt.get() - stopped;
				if (leader.isAlive()) {
					problems.add("round " + round + ": " + leaderName + " still runs after " + stop);
				}
				// the new leader read the incident back from the store, shows it open and records its polls under its id;
				// only then does the queue end, so the resolve comes from a poll of the new leader that no longer sees it
				shownOpen = awaitQuietly(Duration.ofSeconds(10), () -> openIncidents(follower) == 1);
				seenAfterTakeover = awaitQuietly(Duration.ofSeconds(10),
						() -> lastSeenAt(incidentId).map((at) -> at.isAfter(tookOver)).orElse(false));
				ended = System.nanoTime();
				// ends the queued readers, the waiting ALTER and the holder, newest first: the ALTER never runs
				scenario.close();
			}
			FakePagerDuty.Event resolve = awaitEvent(eventsBefore, "resolve", dedupKey, Duration.ofSeconds(30));
			long resolvedNanos = resolve.receivedNanos() - ended;
			Thread.sleep(QUIET.toMillis());

			long epochAfter = cluster(follower).path("shards").path(0).path("epoch").asLong();
			List<FakePagerDuty.Event> events = this.pagerDuty.events();
			events = events.subList(eventsBefore, events.size());
			String key = dedupKey;
			int triggers = (int) events.stream().filter((e) -> key.equals(e.dedupKey()) && "trigger".equals(e.action())).count();
			int resolves = (int) events.stream().filter((e) -> key.equals(e.dedupKey()) && "resolve".equals(e.action())).count();
			List<String> others = events.stream().filter((e) -> !key.equals(e.dedupKey()))
				.map((e) -> e.action() + " " + e.dedupKey()).toList();
			int incidents = (int) (incidentCount() - incidentsBefore);
			List<String> ids = incidentIds(dedupKey);
			String state = this.store.sql("SELECT state FROM incident WHERE id = :id").param("id", incidentId)
				.query(String.class).optional().orElse("missing");
			boolean sameIncident = ids.equals(List.of(incidentId)) && "resolved".equals(state) && shownOpen
					&& seenAfterTakeover;
			if (triggers != 1) {
				problems.add("round " + round + ": " + triggers + " triggers for " + dedupKey);
			}
			if (resolves != 1) {
				problems.add("round " + round + ": " + resolves + " resolves for " + dedupKey);
			}
			if (incidents != 1 || ids.size() != 1) {
				problems.add("round " + round + ": " + incidents + " incidents opened, " + ids + " for " + dedupKey);
			}
			if (!sameIncident) {
				problems.add("round " + round + ": incident " + incidentId + " not continued (store: " + ids + ", state "
						+ state + ", shown open by " + follower.name() + " after the takeover: " + shownOpen
						+ ", seen by its polls after the takeover: " + seenAfterTakeover + ")");
			}
			if (!others.isEmpty()) {
				problems.add("round " + round + ": other events " + others);
			}
			if (epochAfter != epochBefore + 1) {
				problems.add("round " + round + ": epoch " + epochBefore + " -> " + epochAfter);
			}

			// the stopped replica comes back under its name, as a restarted pod does
			start(leaderName);
			return new Round(round, stop, leaderName, follower.name(), takeoverNanos / 1_000_000, exitedNanos / 1_000_000,
					epochBefore, epochAfter, sameIncident, triggers, resolves, incidents, resolvedNanos / 1_000_000,
					List.copyOf(problems));
		}

		/** Every dedup key of the run had one trigger and one resolve, and PagerDuty would have taken every event. */
		private List<String> wholeRunProblems(FakePagerDuty fake) {
			List<String> problems = new ArrayList<>();
			Map<String, List<String>> actions = fake.events().stream()
				.collect(Collectors.groupingBy((e) -> String.valueOf(e.dedupKey()), LinkedHashMap::new,
						Collectors.mapping(FakePagerDuty.Event::action, Collectors.toList())));
			actions.forEach((key, list) -> {
				if (!list.equals(List.of("trigger", "resolve"))) {
					problems.add("whole run: " + key + " got " + list);
				}
			});
			if (actions.size() != this.rounds) {
				problems.add("whole run: " + actions.size() + " dedup keys for " + this.rounds + " rounds");
			}
			fake.violations().forEach((v) -> problems.add("PagerDuty would refuse " + v));
			return problems;
		}

		private boolean settled() {
			if (this.replicas.size() != 2) {
				return false;
			}
			String leader = null;
			int leading = 0;
			for (ServiceProcess replica : this.replicas.values()) {
				JsonNode view = cluster(replica);
				if (view == null || view.path("members").size() != 2) {
					return false;
				}
				String seen = text(view.path("shards").path(0).path("leader"));
				if (seen == null || (leader != null && !leader.equals(seen))) {
					return false;
				}
				leader = seen;
				leading += view.path("shards").path(0).path("thisReplica").asBoolean() ? 1 : 0;
			}
			return leading == 1;
		}

		/** Nanoseconds from {@code since} to the replica saying it leads shard 0, asking every 20 ms. */
		private long awaitLeads(ServiceProcess replica, long since, Duration timeout) throws InterruptedException {
			while (System.nanoTime() - since < timeout.toNanos()) {
				if (leads(replica)) {
					return System.nanoTime() - since;
				}
				Thread.sleep(ASK_EVERY.toMillis());
			}
			throw new IllegalStateException(replica.name() + " did not lead within " + timeout.toSeconds() + " s");
		}

		private FakePagerDuty.Event awaitEvent(int from, String action, String dedupKey, Duration timeout)
				throws InterruptedException {
			long deadline = System.nanoTime() + timeout.toNanos();
			while (System.nanoTime() < deadline) {
				List<FakePagerDuty.Event> events = this.pagerDuty.events();
				for (FakePagerDuty.Event event : events.subList(Math.min(from, events.size()), events.size())) {
					if (action.equals(event.action()) && (dedupKey == null || dedupKey.equals(event.dedupKey()))) {
						return event;
					}
				}
				Thread.sleep(ASK_EVERY.toMillis());
			}
			throw new IllegalStateException("no " + action + " at the fake within " + timeout.toSeconds() + " s");
		}

		private List<String> incidentIds(String dedupKey) {
			return this.store.sql("SELECT id FROM incident WHERE dedup_key = :key").param("key", dedupKey)
				.query(String.class).list();
		}

		private boolean triggerMarkedSent(String dedupKey) {
			return this.store.sql("""
					SELECT count(*) FROM alert_outbox WHERE dedup_key = :key AND action = 'trigger' AND state = 'sent'
					""").param("key", dedupKey).query(Long.class).single() > 0;
		}

		private Optional<Instant> lastSeenAt(String incidentId) {
			return this.store.sql("SELECT last_seen_at FROM incident WHERE id = :id").param("id", incidentId)
				.query((rs, n) -> rs.getTimestamp(1)).optional().map(Timestamp::toInstant);
		}

		private long incidentCount() {
			return this.store.sql("SELECT count(*) FROM incident").query(Long.class).single();
		}

		private void print(List<Round> done, List<String> problems, String loadBefore) throws Exception {
			System.out.println();
			System.out.printf(Locale.ROOT, "Failover: two replicas as processes on one PostgreSQL store, the leader stopped "
					+ "mid-incident; lease %s (renewed every %s), poll %d s, min-wait 2 s, min-queued 3, resolve-after %d s, "
					+ "guard off; %d rounds, SIGKILL and SIGTERM alternating%n", seconds(this.lease),
					seconds(this.lease.dividedBy(3)), POLL.toSeconds(), RESOLVE_AFTER.toSeconds(), this.rounds);
			System.out.printf(Locale.ROOT, "machine: %d cores (%s), load average before %s, after %s; JVM %s (%s); "
					+ "PostgreSQL %s (%s) on the same machine%n", Runtime.getRuntime().availableProcessors(), cpuModel(),
					loadBefore, loadAverage(), System.getProperty("java.version"), System.getProperty("java.vm.name"),
					serverVersion(), this.server.backendKind());
			System.out.println();
			System.out.println("| round | stop | leader stopped | successor | stop -> successor leads (ms) "
					+ "| stop -> process gone (ms) | epoch | same incident | triggers | resolves | incidents "
					+ "| queue ended -> resolve (ms) |");
			System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
			done.forEach((r) -> System.out.println(r.row()));
			System.out.println();
			System.out.println("| stop | rounds | takeover min / median / max (ms) | bound: lease + poll (ms) "
					+ "| triggers per incident | resolves per incident | incidents per situation |");
			System.out.println("|---|---|---|---|---|---|---|");
			Map<Stop, Double> medians = new LinkedHashMap<>();
			for (Stop stop : Stop.values()) {
				List<Round> of = done.stream().filter((r) -> r.stop() == stop).toList();
				if (of.isEmpty()) {
					continue;
				}
				long[] takeovers = of.stream().mapToLong(Round::takeoverMillis).sorted().toArray();
				double median = median(takeovers);
				medians.put(stop, median);
				String bound = (stop == Stop.SIGKILL) ? Long.toString(this.lease.plus(POLL).toMillis())
						: "- (lease released)";
				System.out.printf(Locale.ROOT, "| %s | %d | %d / %s / %d | %s | %s | %s | %s |%n", stop, of.size(),
						takeovers[0], millis(median), takeovers[takeovers.length - 1], bound,
						values(of.stream().map(Round::triggers)), values(of.stream().map(Round::resolves)),
						values(of.stream().map(Round::incidents)));
			}
			System.out.println();
			if (medians.size() == 2) {
				System.out.printf(Locale.ROOT, "median takeover SIGKILL / SIGTERM: %.1f (%s ms / %s ms)%n",
						medians.get(Stop.SIGKILL) / medians.get(Stop.SIGTERM), millis(medians.get(Stop.SIGKILL)),
						millis(medians.get(Stop.SIGTERM)));
			}
			long bound = this.lease.plus(POLL).toMillis();
			List<String> over = done.stream().filter((r) -> r.stop() == Stop.SIGKILL && r.takeoverMillis() > bound)
				.map((r) -> "round " + r.round() + " (" + r.takeoverMillis() + " ms)").toList();
			System.out.println("SIGKILL takeovers over lease + poll: " + (over.isEmpty() ? "none" : String.join(", ", over)));
			System.out.println("replica logs: target/replicas/");
			if (problems.isEmpty()) {
				System.out.println("nothing paged or resolved twice, no second incident: PASS");
			}
			else {
				System.out.println("FAIL:");
				problems.forEach((p) -> System.out.println("  " + p));
			}
		}

		private String serverVersion() throws Exception {
			try (Connection c = this.server.connect(PostgresServer.DEFAULT_DATABASE, "bench-probe");
					Statement s = c.createStatement();
					ResultSet rs = s.executeQuery("SHOW server_version")) {
				rs.next();
				return rs.getString(1);
			}
		}

	}

	private record Round(int round, Stop stop, String stopped, String successor, long takeoverMillis,
			long goneMillis, long epochBefore, long epochAfter, boolean sameIncident, int triggers, int resolves,
			int incidents, long resolveMillis, List<String> problems) {

		String row() {
			return String.format(Locale.ROOT, "| %d | %s | %s | %s | %d | %d | %d -> %d | %s | %d | %d | %d | %d |", this.round,
					this.stop, this.stopped, this.successor, this.takeoverMillis, this.goneMillis, this.epochBefore,
					this.epochAfter, this.sameIncident ? "yes" : "no", this.triggers, this.resolves, this.incidents,
					this.resolveMillis);
		}

	}

	private static JsonNode cluster(ServiceProcess replica) {
		ServiceProcess.Answer answer = replica.get("/api/v1/cluster");
		if (answer.status() != 200) {
			return null;
		}
		try {
			return JSON.readTree(answer.body());
		}
		catch (RuntimeException ex) {
			return null;
		}
	}

	private static boolean leads(ServiceProcess replica) {
		JsonNode view = cluster(replica);
		return view != null && view.path("shards").path(0).path("thisReplica").asBoolean();
	}

	private static String leaderSeenBy(ServiceProcess replica) {
		JsonNode view = cluster(replica);
		return (view == null) ? null : text(view.path("shards").path(0).path("leader"));
	}

	private static int openIncidents(ServiceProcess replica) {
		ServiceProcess.Answer answer = replica.get("/api/v1/targets/lab");
		try {
			return (answer.status() != 200) ? -1 : JSON.readTree(answer.body()).path("openIncidents").asInt();
		}
		catch (RuntimeException ex) {
			return -1;
		}
	}

	private static String text(JsonNode node) {
		return (node == null || node.isNull() || node.isMissingNode()) ? null : node.asString();
	}

	private static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
		if (!awaitQuietly(timeout, condition)) {
			throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for: " + what);
		}
	}

	private static boolean awaitQuietly(Duration timeout, BooleanSupplier condition) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				return false;
			}
			Thread.sleep(100);
		}
		return true;
	}

	private static double median(long[] sorted) {
		int n = sorted.length;
		return (n % 2 == 1) ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
	}

	private static String millis(double value) {
		return (value == Math.rint(value)) ? Long.toString((long) value) : String.format(Locale.ROOT, "%.1f", value);
	}

	private static String seconds(Duration duration) {
		return String.format(Locale.ROOT, "%.2f s", duration.toMillis() / 1000.0).replace(".00 s", " s");
	}

	/** The value when every round had the same, else each round's. */
	private static String values(Stream<Integer> values) {
		List<Integer> all = values.toList();
		return all.stream().distinct().count() == 1 ? all.get(0).toString()
				: all.stream().map(String::valueOf).collect(Collectors.joining(", "));
	}

	private static String cpuModel() {
		try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
			return lines.filter((l) -> l.startsWith("model name")).findFirst().map((l) -> l.substring(l.indexOf(':') + 1).trim())
				.orElse("unknown CPU");
		}
		catch (IOException ex) {
			return "unknown CPU";
		}
	}

	private static String loadAverage() {
		try {
			return String.join(" / ", Arrays.asList(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+"))
				.subList(0, 3));
		}
		catch (IOException | RuntimeException ex) {
			return "unknown";
		}
	}

}

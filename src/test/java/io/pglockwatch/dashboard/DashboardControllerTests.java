package io.pglockwatch.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.alert.AlertAction;
import io.pglockwatch.alert.AlertChannel;
import io.pglockwatch.alert.AlertDelivery;
import io.pglockwatch.alert.AlertOutbox;
import io.pglockwatch.alert.AlertProperties;
import io.pglockwatch.alert.OutboxEntry;
import io.pglockwatch.api.ApiErrors;
import io.pglockwatch.api.TargetApiController;
import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SnapshotFixture;
import io.pglockwatch.guard.Guard;
import io.pglockwatch.guard.GuardLog;
import io.pglockwatch.guard.GuardRecord;
import io.pglockwatch.guard.GuardOutcome;
import io.pglockwatch.guard.GuardAction;
import io.pglockwatch.guard.GuardMode;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.poll.TargetStates;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.security.SecurityConfiguration;
import io.pglockwatch.testsupport.AllProperties;
import org.commonmark.Extension;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.FencedCodeBlock;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.test.context.TestPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;

import static io.pglockwatch.graph.SnapshotFixture.relation;
import static io.pglockwatch.lock.LockMode.ACCESS_EXCLUSIVE;
import static io.pglockwatch.lock.LockMode.ACCESS_SHARE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.mockito.BDDMockito.given;
import static org.springframework.security.test.web.servlet.request.SecurityMockMvcRequestPostProcessors.csrf;
import static org.springframework.security.test.web.servlet.request.SecurityMockMvcRequestPostProcessors.user;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/** The pages, with login on as in production. */
@WebMvcTest({ DashboardController.class, IncidentPageController.class, LoginController.class, TargetApiController.class })
@Import({ SecurityConfiguration.class, PageModel.class, Format.class, ApiErrors.class,
		DashboardControllerTests.Config.class })
@TestPropertySource(properties = { "pglockwatch.security.login-required=true",
		"pglockwatch.security.users[0].name=sre", "pglockwatch.security.users[0].role=viewer",
		// bcrypt of PASSWORD
		"pglockwatch.security.users[0].password-hash=$2a$10$VvsVOkRFFqahodcWaap4suIIMkGEXq/5KdgpJ7zSXLCLenIjMfSz6",
		"pglockwatch.targets[0].name=orders", "pglockwatch.targets[0].url=jdbc:postgresql://db:5432/app",
		// sha256 of "pipeline-token-0123456789abcdef0123456789abcdef"
		"pglockwatch.security.api-tokens[0].name=deploy", "pglockwatch.security.api-tokens[0].role=viewer",
		"pglockwatch.security.api-tokens[0].sha256=${test.token.sha256}" })
class DashboardControllerTests {

	static final String PASSWORD = "correct horse battery staple";

	static final String TOKEN = "pipeline-token-0123456789abcdef0123456789abcdef";

	static {
		try {
			System.setProperty("test.token.sha256", HexFormat.of()
				.formatHex(MessageDigest.getInstance("SHA-256")
					.digest(TOKEN.getBytes(StandardCharsets.UTF_8))));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static final Instant T0 = Instant.parse("2026-11-23T12:00:00Z");

	@Autowired
	MockMvc mvc;

	@Autowired
	TargetStatus targets;

	/** A mock: the cluster's leases are a store matter, tested in the cluster package and the cluster tests. */
	@MockitoBean
	private Cluster cluster;

	@MockitoBean
	IncidentStore store;

	@MockitoBean
	IncidentRecorder recorder;

	@MockitoBean
	Guard guard;

	@MockitoBean
	GuardLog guardLog;

	@MockitoBean
	AlertOutbox alerts;

	@TestConfiguration
	@Import(AllProperties.class)
	static class Config {

		@Bean
		TargetStatus targetStatus() {
			return new TargetStatus(List.of("orders"));
		}

		@Bean
		Clock clock() {
			return Clock.systemUTC();
		}

		/** Over the mocked outbox, with PagerDuty on (the bound properties leave every channel off). */
		@Bean
		AlertDelivery alertDelivery(AlertOutbox outbox) {
			return new AlertDelivery(outbox, new AlertProperties(
					new AlertProperties.PagerDuty("R0UTINGk3ySECRETe1b9c04d2f7a6358", "https://events.pagerduty.com/v2/enqueue"),
					new AlertProperties.Webhook(""), "https://lockwatch.example.com",
					new AlertProperties.Delivery(Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofMinutes(5),
							Duration.ofSeconds(30), 120)));
		}

	}

	private static Incident incident() {
		SessionFacts ddl = new SessionFacts(4243, T0, "active", "migrate", "deploy", "10.0.0.2", "app", T0,
				Duration.ofSeconds(50), null, "ALTER TABLE users ADD COLUMN x int", "ALTER TABLE", null);
		SessionFacts root = new SessionFacts(4242, T0, "idle in transaction", "reporting", "report", "10.0.0.3", "app",
				T0, Duration.ofSeconds(720), Duration.ofSeconds(700), "SELECT * FROM users", "SELECT", null);
		return new Incident("inc-1", "orders/ddl-lock-queue/4243@1", "orders", IncidentKind.DDL_LOCK_QUEUE,
				Severity.WARNING, IncidentState.RESOLVED, T0, null, T0.plusSeconds(60), T0.plusSeconds(50),
				new DdlFacts(ddl, LockMode.ACCESS_EXCLUSIVE, "public.users", Duration.ofSeconds(42)), root, 0, 37,
				Duration.ofSeconds(42), "app");
	}

	@Test
	void pagesRedirectToLoginAndTheApiAnswers401WithoutLogin() throws Exception {
		// a browser asks for HTML and is sent to the login form; an API client gets a 401
		this.mvc.perform(get("/").accept(MediaType.TEXT_HTML))
			.andExpect(status().isFound())
			.andExpect(header().string("Location", containsString("/login")));
		this.mvc.perform(get("/incidents").accept(MediaType.TEXT_HTML)).andExpect(status().isFound());
		this.mvc.perform(get("/api/v1/targets")).andExpect(status().isUnauthorized());
		this.mvc.perform(get("/login")).andExpect(status().isOk()).andExpect(content().string(containsString("Log in")));
	}

	@Test
	void loginWithTheConfiguredBcryptUser() throws Exception {
		this.mvc.perform(post("/login").param("username", "sre").param("password", PASSWORD).with(csrf()))
			.andExpect(status().isFound())
			.andExpect(header().string("Location", not(containsString("error"))));
		this.mvc.perform(post("/login").param("username", "sre").param("password", "wrong").with(csrf()))
			.andExpect(header().string("Location", containsString("/login?error")));
		// no CSRF token, no login
		this.mvc.perform(post("/login").param("username", "sre").param("password", PASSWORD))
			.andExpect(status().isForbidden());
	}

	@Test
	void dashboardShowsTargetsAndNoBannerWhenLoginIsOn() throws Exception {
		TargetStates.down(this.targets, "orders", "Connection to db:5432 refused");
		this.mvc.perform(get("/").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("orders")))
			.andExpect(content().string(containsString("down: connect")))
			.andExpect(content().string(containsString("Connection to db:5432 refused")))
			.andExpect(content().string(not(containsString("Login is off"))))
			.andExpect(content().string(containsString("hx-get=\"/fragments/live?target=orders\"")));
	}

	@Test
	void aHotStandbyShowsAsOneWithItsReplayLag() throws Exception {
		TargetStates.standby(this.targets, "orders", LockWaitGraph.empty("orders", T0));
		this.mvc.perform(get("/").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("hot standby, replay lag 1.0 s")));
		this.mvc.perform(get("/api/v1/targets/orders").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(jsonPath("$.role").value("standby"))
			.andExpect(jsonPath("$.replayLagSeconds").value(1.0))
			.andExpect(jsonPath("$.replayWait").value(nullValue()))
			.andExpect(jsonPath("$.longestWaitSeconds").value(0.0));
	}

	@Test
	void aChannelThatRejectsEventsIsAWarningOnTheLivePage() throws Exception {
		TargetStates.down(this.targets, "orders", "Connection to db:5432 refused");
		this.mvc.perform(get("/").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(not(containsString("Pages are not getting through"))));

		OutboxEntry lost = new OutboxEntry(7, "inc-1", AlertChannel.PAGERDUTY, AlertAction.TRIGGER, "orders/x", "{}",
				OutboxEntry.State.FAILED, 1, T0, T0, null, 400,
				"HTTP 400: {\"status\":\"invalid event\",\"errors\":[\"Invalid routing key\"]}", "event-7", "orders",
				1L);
		given(this.alerts.tally()).willReturn(Map.of(AlertChannel.PAGERDUTY, new AlertOutbox.Tally(0, 3, 2, 2, lost)));

		for (String page : new String[] { "/", "/fragments/live" }) {
			String html = this.mvc.perform(get(page).with(user("sre").roles("VIEWER")))
				.andExpect(status().isOk())
				.andReturn()
				.getResponse()
				.getContentAsString();
			assertThat(html).as(page)
				.contains("Pages are not getting through", "pagerduty",
						"rejected 2 events for good since it last accepted one",
						"HTTP 400: {&quot;status&quot;:&quot;invalid event&quot;,&quot;errors&quot;:[&quot;Invalid routing key&quot;]}",
						"href=\"/incidents/inc-1\"", "32-character Events API v2 integration key",
						"GET /api/v1/alerts?state=failed")
				.doesNotContain("R0UTINGk3ySECRETe1b9c04d2f7a6358");
		}

		// accepted again since: the rejected events stay failed, the warning goes
		given(this.alerts.tally()).willReturn(Map.of(AlertChannel.PAGERDUTY, new AlertOutbox.Tally(0, 4, 2, 0, lost)));
		this.mvc.perform(get("/").with(user("sre").roles("VIEWER")))
			.andExpect(content().string(not(containsString("Pages are not getting through"))));
	}

	@Test
	void fiveHundredQueuedStayReadableAndTheLivePageSmall() throws Exception {
		SnapshotFixture fixture = new SnapshotFixture().name(20001, "public", "users")
			.session(100, "reporting", "idle in transaction")
			.session(200, "migrate", "active")
			.holds(100, relation(20001), ACCESS_SHARE)
			.waits(200, relation(20001), ACCESS_EXCLUSIVE, 90);
		for (int i = 1; i <= 500; i++) {
			fixture.session(1000 + i, "api", "active").waits(1000 + i, relation(20001), ACCESS_SHARE, 80 - i * 0.01);
		}
		TargetStates.up(this.targets, "orders", fixture.graph());
		MvcResult page = this.mvc.perform(get("/").with(user("sre").roles("VIEWER"))).andExpect(status().isOk()).andReturn();
		String html = page.getResponse().getContentAsString();
		assertThat(html).contains("AccessExclusiveLock", "public.users", "500 queued", "and 490 more", "Root blocker",
				"idle in transaction", "pid 100", "pid 200");
		assertThat(html.getBytes(StandardCharsets.UTF_8).length).as("page bytes").isLessThan(100_000);
		String fragment = this.mvc.perform(get("/fragments/live").param("target", "orders").with(user("sre").roles("VIEWER")))
			.andReturn()
			.getResponse()
			.getContentAsString();
		assertThat(fragment).startsWith("<section id=\"live\"").contains("500 queued").doesNotContain("<html");
	}

	/**
	 * query-text full lets statements of up to 1 MB through, and the live page is refetched every poll: ten DDL queues
	 * and a dozen blocking chains whose every statement is 100 KB still make a page under 100 KB, with each statement
	 * cut and the whole one a click away.
	 */
	@Test
	void hugeStatementsInManyQueuesKeepTheLivePageSmall() throws Exception {
		SnapshotFixture fixture = new SnapshotFixture();
		for (int q = 0; q < 10; q++) {
			int relation = 30000 + q;
			int root = 100 + q;
			int ddl = 200 + q;
			fixture.name(relation, "public", "t" + q)
				.session(root, "reporting", "idle in transaction")
				.query(root, huge("SELECT * FROM t" + q, root))
				.session(ddl, "migrate", "active")
				.query(ddl, huge("ALTER TABLE t" + q + " ADD COLUMN c int DEFAULT", ddl))
				.holds(root, relation(relation), ACCESS_SHARE)
				.waits(ddl, relation(relation), ACCESS_EXCLUSIVE, 90 - q);
			for (int i = 1; i <= 15; i++) {
				int pid = 1000 + q * 100 + i;
				fixture.session(pid, "api", "active")
					.query(pid, huge("SELECT count(*) FROM t" + q, pid))
					.waits(pid, relation(relation), ACCESS_SHARE, 80 - i * 0.01);
			}
		}
		for (int c = 0; c < 12; c++) {
			int root = 5000 + c * 10;
			fixture.session(root, "worker", "idle in transaction")
				.query(root, huge("UPDATE accounts SET n = n + 1", root))
				.holds(root, SnapshotFixture.transaction(900 + c), LockMode.EXCLUSIVE);
			for (int w = 1; w <= 3; w++) {
				fixture.session(root + w, "api", "active")
					.query(root + w, huge("UPDATE accounts SET n = 0", root + w))
					.waits(root + w, SnapshotFixture.transaction(900 + c), LockMode.SHARE, 30 - w * 0.01);
			}
		}
		TargetStates.up(this.targets, "orders", fixture.graph());

		String html = this.mvc.perform(get("/").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andReturn()
			.getResponse()
			.getContentAsString(StandardCharsets.UTF_8);
		String fragment = this.mvc.perform(get("/fragments/live").param("target", "orders").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andReturn()
			.getResponse()
			.getContentAsString(StandardCharsets.UTF_8);
		assertThat(html.getBytes(StandardCharsets.UTF_8).length).as("page bytes").isLessThan(100_000);
		assertThat(fragment.getBytes(StandardCharsets.UTF_8).length).as("fragment bytes").isLessThan(100_000);
		for (String page : List.of(html, fragment)) {
			assertThat(page).contains("ALTER TABLE t0 ADD COLUMN c int DEFAULT &#39;x&quot;&lt;&amp;x&quot;", "…",
					"href=\"/targets/orders/sessions/200\"", "5 more DDL lock queues", "<span class=\"relation\">public.t9</span>",
					"7 more blocking chains", "15 queued", "and 5 more")
				.doesNotContain("end of statement of pid");
		}

		// the whole statement of one session, behind the same login
		this.mvc.perform(get("/targets/orders/sessions/200").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("end of statement of pid 200")))
			.andExpect(content().string(containsString("Back to the live graph of orders")));
		this.mvc.perform(get("/targets/orders/sessions/200").accept(MediaType.TEXT_HTML))
			.andExpect(status().isFound())
			.andExpect(header().string("Location", containsString("/login")));
		this.mvc.perform(get("/targets/orders/sessions/4").with(user("sre").roles("VIEWER")))
			.andExpect(status().isNotFound());
		// the API is for programs and keeps every statement whole
		this.mvc.perform(get("/api/v1/targets/orders/graph").header("Authorization", "Bearer " + TOKEN))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("end of statement of pid 200")));
	}

	/**
	 * {@code start} followed by a 100 KB literal and a marker that only the whole statement holds; the literal is of
	 * characters that HTML escaping makes four to six times longer.
	 */
	private static String huge(String start, int pid) {
		return start + " '" + "x\"<&".repeat(25_000) + "' -- end of statement of pid " + pid;
	}

	@Test
	void aBlockingChainListsItsWaitersWithoutQueuePositions() throws Exception {
		// a row-lock chain: 20 sessions wait for the transaction of pid 300, no DDL anywhere
		SnapshotFixture fixture = new SnapshotFixture().session(300, "worker", "idle in transaction")
			.holds(300, SnapshotFixture.transaction(900), LockMode.EXCLUSIVE);
		for (int i = 1; i <= 20; i++) {
			fixture.session(3000 + i, "api", "active")
				.waits(3000 + i, SnapshotFixture.transaction(900), LockMode.SHARE, 30 - i * 0.01);
		}
		TargetStates.up(this.targets, "orders", fixture.graph());
		String html = this.mvc.perform(get("/").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andReturn()
			.getResponse()
			.getContentAsString();
		assertThat(html).contains("aria-label=\"blocking chain\"", "aria-label=\"blocked sessions\"", "pid 300",
				"blocks <strong>20</strong> sessions", "pid 3001", "ShareLock", "and 10 more")
			.doesNotContain("aria-label=\"queued sessions\"", "class=\"position\"");
	}

	@Test
	void theTargetTableIsSearchedSortedAndPagedFromTheQueryAndEveryLinkKeepsThem() throws Exception {
		SnapshotFixture fixture = new SnapshotFixture().name(20001, "public", "users")
			.session(100, "reporting", "idle in transaction")
			.session(200, "migrate", "active")
			.holds(100, relation(20001), ACCESS_SHARE)
			.waits(200, relation(20001), ACCESS_EXCLUSIVE, 75.5);
		TargetStates.up(this.targets, "orders", fixture.graph());
		String html = this.mvc.perform(get("/").param("q", "ORD").param("sort", "wait").param("page", "4")
			.param("size", "20")
			.with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andReturn()
			.getResponse()
			.getContentAsString(StandardCharsets.UTF_8);
		// page 4 of 1 is the last page; the live part refreshes what is shown, the links keep search, order and size
		assertThat(html).contains("1 target: 0 down, 0 with open incidents, 1 with lock waits", "1–1 of 1 matching",
				"hx-get=\"/fragments/live?target=orders&amp;q=ORD&amp;sort=wait&amp;size=20\"",
				"href=\"/?target=orders&amp;q=ORD&amp;sort=name&amp;size=20\"", "<td class=\"longest-wait\">1m 15s</td>",
				"aria-sort=\"descending\"", "name=\"q\" value=\"ORD\"")
			.doesNotContain("class=\"pages\"")
			.containsOnlyOnce("aria-sort");
		this.mvc.perform(get("/fragments/live").param("q", "ord").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("<section id=\"live\"")))
			.andExpect(content().string(containsString("hx-get=\"/fragments/live?target=orders&amp;q=ord\"")));
	}

	/** What a person types in the search box comes back as text in the box and as data in every link. */
	@Test
	void aHostileSearchStaysTextAndEncodedInLinks() throws Exception {
		TargetStates.down(this.targets, "orders", "Connection to db:5432 refused");
		String q = "\"><script>alert(1)</script>&sort=name#";
		String html = this.mvc.perform(get("/").param("q", q).with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andReturn()
			.getResponse()
			.getContentAsString(StandardCharsets.UTF_8);
		assertThat(html).doesNotContain("<script>alert(1)")
			.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;sort=name#\"",
					"No target matches “&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;sort=name#”.",
					"hx-get=\"/fragments/live?target=orders&amp;q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E%26sort%3Dname%23\"",
					"none of 1 matches");
	}

	@Test
	void badTableParametersAre400sThatSayWhatIsAllowed() throws Exception {
		this.mvc.perform(get("/").param("sort", "newest").with(user("sre").roles("VIEWER")))
			.andExpect(status().isBadRequest())
			.andExpect(status().reason("sort must be one of trouble, name, waiters, wait, incidents, not 'newest'"));
		this.mvc.perform(get("/fragments/live").param("size", "500").with(user("sre").roles("VIEWER")))
			.andExpect(status().isBadRequest())
			.andExpect(status().reason("size must be a whole number from 10 to 200, not '500'"));
		this.mvc.perform(get("/").param("page", "0").with(user("sre").roles("VIEWER")))
			.andExpect(status().isBadRequest())
			.andExpect(status().reason("page must be a whole number from 1, not '0'"));
	}

	@Test
	void unknownTargetIsA404Page() throws Exception {
		this.mvc.perform(get("/").param("target", "billing").with(user("sre").roles("VIEWER")))
			.andExpect(status().isNotFound());
	}

	@Test
	void badFilterIsA400AndUnknownIncidentA404() throws Exception {
		this.mvc.perform(get("/incidents").param("state", "closed").with(user("sre").roles("VIEWER")))
			.andExpect(status().isBadRequest());
		this.mvc.perform(get("/incidents").param("kind", "deadlock").with(user("sre").roles("VIEWER")))
			.andExpect(status().isBadRequest());
		given(this.store.findById("nope")).willReturn(Optional.empty());
		this.mvc.perform(get("/incidents/nope").with(user("sre").roles("VIEWER"))).andExpect(status().isNotFound());
	}

	@Test
	void incidentPageWithTimelineAndMarkdown() throws Exception {
		given(this.store.findById("inc-1")).willReturn(Optional.of(incident()));
		given(this.store.timeline("inc-1")).willReturn(List.of(new TimelinePoint(T0, 5, Duration.ofSeconds(3)),
				new TimelinePoint(T0.plusSeconds(1), 37, Duration.ofSeconds(4)),
				new TimelinePoint(T0.plusSeconds(2), 20, Duration.ofSeconds(5))));
		given(this.store.peakGraph("inc-1")).willReturn(Optional.empty());
		given(this.alerts.forIncident("inc-1")).willReturn(List.of());
		given(this.guard.mode()).willReturn(GuardMode.OFF);
		given(this.guardLog.forIncident(incident().dedupKey())).willReturn(List.of(new GuardRecord(T0.plusSeconds(61),
				"orders", incident().dedupKey(), GuardAction.CANCEL_DDL, "guard", GuardMode.ENFORCE, 4243,
				T0.minusSeconds(60), "migrate", "deploy", GuardOutcome.CANCELLED, "kept 37 queued for 60 s")));
		this.mvc.perform(get("/incidents/inc-1").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("<polyline class=\"depth\"")))
			.andExpect(content().string(containsString("public.users")))
			.andExpect(content().string(containsString("pid 4242")))
			.andExpect(content().string(containsString("Download Markdown")));
		this.mvc.perform(get("/incidents/inc-1.md").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(header().string("Content-Type", containsString("text/markdown")))
			.andExpect(content().string(containsString("# ddl-lock-queue on orders")))
			.andExpect(content().string(containsString("| 2026-11-23T12:00:01Z | 37 | 4.0 |")))
			.andExpect(content().string(containsString("## Guard actions")))
			.andExpect(content().string(containsString(
					"| 2026-11-23T12:01:01Z | cancel-ddl | guard | enforce | pid 4243 (app migrate, user deploy) | cancelled | kept 37 queued for 60 s |")));
	}

	/**
	 * Anyone who can connect names their application and tables and writes the statements; the export is pasted into
	 * postmortems and rendered there. A statement that holds a code fence must not close its block, and names must
	 * come out as text: no heading, link, image or HTML of theirs.
	 */
	@Test
	void markdownExportKeepsHostileNamesAndStatementsInert() throws Exception {
		String statement = "ALTER TABLE t ADD COLUMN x int; -- ```\n```\n# heading\n[x](javascript:alert(1))\n"
				+ "<script>alert(1)</script>\n`````\n~~~\n| a | b |";
		String app = "[x](javascript:alert(2)) <script>alert(3)</script> # app";
		String relation = "public.\"# heading\n<img src=x onerror=alert(4)>|x\"";
		SessionFacts ddl = new SessionFacts(4243, T0, "active", app, "*user*_x_", "10.0.0.2", "app<b>", T0,
				Duration.ofSeconds(50), null, statement, "ALTER TABLE", null);
		SessionFacts root = new SessionFacts(4242, T0, "idle in transaction", "`` <img src=x onerror=alert(5)>",
				"report", "10.0.0.3", "app<b>", T0, Duration.ofSeconds(720), Duration.ofSeconds(700),
				"SELECT 1 -- ````", "SELECT", null);
		Incident hostile = new Incident("inc-1", "orders/ddl-lock-queue/4243@1", "orders", IncidentKind.DDL_LOCK_QUEUE,
				Severity.WARNING, IncidentState.RESOLVED, T0, null, T0.plusSeconds(60), T0.plusSeconds(50),
				new DdlFacts(ddl, LockMode.ACCESS_EXCLUSIVE, relation, Duration.ofSeconds(42)), root, 0, 37,
				Duration.ofSeconds(42), "app<b>");
		given(this.store.findById("inc-1")).willReturn(Optional.of(hostile));
		given(this.store.timeline("inc-1")).willReturn(List.of(new TimelinePoint(T0, 5, Duration.ofSeconds(3))));
		given(this.alerts.forIncident("inc-1")).willReturn(List.of());
		// the guard's record repeats the session's names and adds a reason: inert too, and the table row stays one
		given(this.guardLog.forIncident("orders/ddl-lock-queue/4243@1")).willReturn(List.of(new GuardRecord(T0,
				"orders", "orders/ddl-lock-queue/4243@1", GuardAction.CANCEL_DDL, "guard", GuardMode.ENFORCE, 4243, T0,
				app, "*user*_x_", GuardOutcome.SKIPPED, "excluded: " + app + "\n| x | y |")));
		String md = this.mvc.perform(get("/incidents/inc-1.md").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andReturn()
			.getResponse()
			.getContentAsString(StandardCharsets.UTF_8);

		// in the text: outside the code blocks only our own headings, and each fence longer than any run inside
		List<String> outside = new ArrayList<>();
		String fence = null;
		for (String line : md.split("\n", -1)) {
			if (fence == null && line.startsWith("```")) {
				fence = line.substring(0, line.length() - line.replaceFirst("^`+", "").length());
			}
			else if (fence != null && line.equals(fence)) {
				fence = null;
			}
			else if (fence == null) {
				outside.add(line);
			}
		}
		assertThat(fence).as("every code block closed").isNull();
		assertThat(outside).filteredOn((line) -> line.startsWith("#"))
			.containsExactly("# ddl-lock-queue on orders", "## Waiting DDL", "## Root blocker", "## Timeline", "## Alerts",
					"## Guard actions");
		assertThat(String.join("\n", outside)).doesNotContain("<script", "<img", "](javascript");
		assertThat(md).contains("``````sql\n" + statement + "\n``````\n", "`````sql\nSELECT 1 -- ````\n`````\n");

		// rendered as a reader's tool renders it: the statements are code, word for word, and nothing else is live
		List<Extension> tables = List.of(TablesExtension.create());
		org.commonmark.node.Node document = Parser.builder().extensions(tables).build().parse(md);
		List<String> code = new ArrayList<>();
		document.accept(new AbstractVisitor() {
			@Override
			public void visit(FencedCodeBlock block) {
				code.add(block.getLiteral());
			}
		});
		assertThat(code).containsExactly(statement + "\n", "SELECT 1 -- ````\n");
		String html = HtmlRenderer.builder().extensions(tables).build().render(document);
		assertThat(html).doesNotContain("<script", "<img", "<a ", "href=", "<b>", "<em>", "<strong>", "<del>")
			.contains("<h1>ddl-lock-queue on orders</h1>")
			.contains("[x](javascript:alert(2)) &lt;script&gt;alert(3)&lt;/script&gt; # app")
			.contains("*user*_x_")
			.contains("onerror=alert(4)&gt;|x&quot;");
		assertThat(html.split("<h1>", -1)).hasSize(2);
		assertThat(html.split("<h2>", -1)).hasSize(6);
		// one table row for the guard's record: its reason's line break and pipes stay inside the cell
		assertThat(md).containsOnlyOnce("| skipped | excluded: ");
	}

	@Test
	void incidentPageCutsLongStatementsAndLinksTheWholeOnes() throws Exception {
		String ddlStatement = "ALTER TABLE users ADD COLUMN x int DEFAULT " + "1".repeat(100_000) + " -- ddl ends here";
		String rootStatement = "SELECT * FROM users WHERE id IN (" + "2,".repeat(50_000) + "2) -- root ends here";
		Incident plain = incident();
		SessionFacts d = plain.ddl().session();
		SessionFacts ddl = new SessionFacts(d.pid(), d.backendStart(), d.state(), d.applicationName(), d.user(),
				d.clientAddress(), d.database(), d.transactionStart(), d.transactionAge(), d.idleFor(), ddlStatement,
				d.commandTag(), null);
		SessionFacts r = plain.rootBlocker();
		SessionFacts root = new SessionFacts(r.pid(), r.backendStart(), r.state(), r.applicationName(), r.user(),
				r.clientAddress(), r.database(), r.transactionStart(), r.transactionAge(), r.idleFor(), rootStatement,
				r.commandTag(), null);
		Incident incident = new Incident("inc-1", plain.dedupKey(), "orders", plain.kind(), plain.severity(), plain.state(),
				plain.openedAt(), plain.escalatedAt(), plain.resolvedAt(), plain.lastSeenAt(),
				new DdlFacts(ddl, LockMode.ACCESS_EXCLUSIVE, "public.users", Duration.ofSeconds(42)), root, 0, 37,
				Duration.ofSeconds(42), "app");
		given(this.store.findById("inc-1")).willReturn(Optional.of(incident));
		given(this.store.timeline("inc-1")).willReturn(List.of(new TimelinePoint(T0, 5, Duration.ofSeconds(3))));
		given(this.alerts.forIncident("inc-1")).willReturn(List.of());
		given(this.guard.mode()).willReturn(GuardMode.OFF);
		given(this.store.peakGraph("inc-1")).willReturn(Optional.of("""
				{"target":"orders","takenAt":"2026-11-23T12:00:00Z","sessionCount":2,"edgeCount":1,
				"sessions":[{"pid":4242,"state":"active","query":"%s","waiting":[]},{"pid":5151,"state":"active","query":"%s"}],
				"edges":[{"waiterPid":5151,"blockerPid":4242,"kind":"hard"}],
				"roots":[{"pid":4242,"state":"active","blockedCount":1,"onCycle":false}],"ddlQueues":[],"cycles":[]}
				""".formatted(rootStatement, "SELECT " + "3".repeat(100_000) + " -- waiter ends here")));

		String page = this.mvc.perform(get("/incidents/inc-1").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andReturn()
			.getResponse()
			.getContentAsString(StandardCharsets.UTF_8);
		assertThat(page.getBytes(StandardCharsets.UTF_8).length).as("page bytes").isLessThan(100_000);
		assertThat(page).contains("ALTER TABLE users ADD COLUMN x int DEFAULT 111", "SELECT 333",
				"href=\"/incidents/inc-1/sessions/ddl\"", "href=\"/incidents/inc-1/sessions/root-blocker\"",
				"href=\"/incidents/inc-1/sessions/5151\"", "Whole statement (" + ddlStatement.length() + " characters)")
			.doesNotContain("ends here");
		this.mvc.perform(get("/incidents/inc-1/sessions/ddl").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString(ddlStatement)));
		this.mvc.perform(get("/incidents/inc-1/sessions/root-blocker").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("-- root ends here")));
		this.mvc.perform(get("/incidents/inc-1/sessions/5151").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("-- waiter ends here")))
			.andExpect(content().string(containsString("Back to incident inc-1")));
		this.mvc.perform(get("/incidents/inc-1/sessions/6000").with(user("sre").roles("VIEWER")))
			.andExpect(status().isNotFound());
		this.mvc.perform(get("/incidents/inc-1/sessions/ddl").accept(MediaType.TEXT_HTML))
			.andExpect(status().isFound())
			.andExpect(header().string("Location", containsString("/login")));
	}

	@Test
	void incidentPageDrawsTheStoredGraphAtPeakOrSaysWhyItCannot() throws Exception {
		given(this.store.findById("inc-1")).willReturn(Optional.of(incident()));
		given(this.store.timeline("inc-1")).willReturn(List.of(new TimelinePoint(T0, 5, Duration.ofSeconds(3))));
		given(this.alerts.forIncident("inc-1")).willReturn(List.of());
		given(this.guard.mode()).willReturn(GuardMode.OFF);
		// as stored before the graph at peak had a schema version
		given(this.store.peakGraph("inc-1")).willReturn(Optional.of("""
				{"target":"orders","takenAt":"2026-11-23T12:00:00Z","sessionCount":2,"edgeCount":1,
				"sessions":[{"pid":4242,"state":"active","waiting":[]},{"pid":5151,"state":"idle in transaction"}],
				"edges":[{"waiterPid":5151,"blockerPid":4242,"kind":"hard"}],
				"roots":[{"pid":4242,"state":"active","blockedCount":1,"onCycle":false}],"ddlQueues":[],"cycles":[]}
				"""));
		this.mvc.perform(get("/incidents/inc-1").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("pid 5151")))
			.andExpect(content().string(not(containsString("Not stored."))));
		given(this.store.peakGraph("inc-1")).willReturn(Optional.of("{\"schemaVersion\":2,\"graph\":{}}"));
		this.mvc.perform(get("/incidents/inc-1").with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("Unavailable: the graph at peak was stored with schema version 2")))
			.andExpect(content().string(containsString("public.users")));
	}

	@Test
	void incidentListFiltersByTargetKindAndState() throws Exception {
		given(this.store.find(new IncidentQuery(IncidentState.RESOLVED, "orders",
				IncidentKind.DDL_LOCK_QUEUE, 200))).willReturn(List.of(incident()));
		this.mvc.perform(get("/incidents").param("target", "orders").param("kind", "ddl-lock-queue")
			.param("state", "resolved")
			.with(user("sre").roles("VIEWER")))
			.andExpect(status().isOk())
			.andExpect(content().string(containsString("/incidents/inc-1")));
	}


	@Test
	void pipelinesCallTheApiWithABearerToken() throws Exception {
		this.mvc.perform(get("/api/v1/targets").header("Authorization", "Bearer " + TOKEN)).andExpect(status().isOk());
		this.mvc.perform(get("/api/v1/targets").header("Authorization", "Bearer wrong-token"))
			.andExpect(status().isUnauthorized())
			.andExpect(content().string(containsString("matches none of pglockwatch.security.api-tokens")));
		this.mvc.perform(get("/api/v1/targets")).andExpect(status().isUnauthorized());
		// a token is for the API only
		this.mvc.perform(get("/").header("Authorization", "Bearer " + TOKEN).accept(MediaType.TEXT_HTML))
			.andExpect(status().isFound());
	}


	@Test
	void onlyAnOperatorWithACsrfTokenMayCancelADdl() throws Exception {
		given(this.store.findById("inc-1")).willReturn(Optional.of(incident()));
		this.mvc.perform(post("/incidents/inc-1/cancel-ddl").with(user("sre").roles("VIEWER")).with(csrf()))
			.andExpect(status().isForbidden());
		this.mvc.perform(post("/incidents/inc-1/cancel-ddl").with(user("boss").roles("VIEWER", "OPERATOR")))
			.andExpect(status().isForbidden());
		this.mvc.perform(post("/incidents/inc-1/cancel-ddl").with(user("boss").roles("VIEWER", "OPERATOR")).with(csrf()))
			.andExpect(status().isFound())
			.andExpect(header().string("Location", containsString("/incidents/inc-1")));
	}

}

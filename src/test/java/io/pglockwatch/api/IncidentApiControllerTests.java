package io.pglockwatch.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.alert.AlertOutbox;
import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.guard.Guard;
import io.pglockwatch.guard.GuardAction;
import io.pglockwatch.guard.GuardLog;
import io.pglockwatch.guard.GuardMode;
import io.pglockwatch.guard.GuardOutcome;
import io.pglockwatch.guard.GuardRecord;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.security.SecurityConfiguration;
import io.pglockwatch.testsupport.AllProperties;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.TestPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.MockMvc;

import static org.hamcrest.Matchers.containsString;
import static org.mockito.BDDMockito.given;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

@WebMvcTest({ IncidentApiController.class, TargetApiController.class, AlertApiController.class })
@Import({ SecurityConfiguration.class, AllProperties.class, IncidentDetails.class })
@TestPropertySource(properties = { "pglockwatch.security.login-required=false",
		"pglockwatch.targets[0].name=orders", "pglockwatch.targets[0].url=jdbc:postgresql://db:5432/app" })
class IncidentApiControllerTests {

	private static final Instant T0 = Instant.parse("2026-11-23T12:00:00Z");

	@Autowired
	MockMvc mvc;

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
	static class Targets {

		@Bean
		TargetStatus targetStatus() {
			return new TargetStatus(List.of("orders"));
		}

	}

	private static Incident incident() {
		SessionFacts ddl = new SessionFacts(4243, T0.minusSeconds(60), "active", "migrate", "deploy", "10.0.0.2", "app",
				T0.minusSeconds(50), Duration.ofSeconds(50), null, "ALTER TABLE users ADD COLUMN x int", "ALTER TABLE",
				null);
		SessionFacts root = new SessionFacts(4242, T0.minusSeconds(900), "idle in transaction", "reporting", "report",
				"10.0.0.3", "app", T0.minusSeconds(720), Duration.ofSeconds(720), Duration.ofSeconds(700),
				"SELECT * FROM users WHERE id = ?", "SELECT", null);
		return new Incident("inc-1", "orders/ddl-lock-queue/4243@1", "orders", IncidentKind.DDL_LOCK_QUEUE,
				Severity.CRITICAL, IncidentState.ESCALATED, T0, T0.plusSeconds(20), null, T0.plusSeconds(42),
				new DdlFacts(ddl, LockMode.ACCESS_EXCLUSIVE, "public.users", Duration.ofSeconds(42)), root, 37, 37,
				Duration.ofSeconds(42), "app");
	}

	@Test
	void listsOpenIncidents() throws Exception {
		given(this.store.find(new IncidentQuery(IncidentState.OPEN, null, null, 100))).willReturn(List.of(incident()));
		this.mvc.perform(get("/api/v1/incidents").param("state", "open"))
			.andExpect(status().isOk())
			.andExpect(jsonPath("$[0].id").value("inc-1"))
			.andExpect(jsonPath("$[0].kind").value("ddl-lock-queue"))
			.andExpect(jsonPath("$[0].severity").value("critical"))
			.andExpect(jsonPath("$[0].state").value("escalated"))
			.andExpect(jsonPath("$[0].ddl.mode").value("AccessExclusiveLock"))
			.andExpect(jsonPath("$[0].ddl.waitSeconds").value(42.0))
			.andExpect(jsonPath("$[0].rootBlocker.idleSeconds").value(700.0))
			.andExpect(jsonPath("$[0].relation").value("public.users"));
	}

	@Test
	void oneIncidentWithTimelineAndGraphAtPeak() throws Exception {
		given(this.store.findById("inc-1")).willReturn(Optional.of(incident()));
		given(this.store.timeline("inc-1")).willReturn(List.of(new TimelinePoint(T0, 5, Duration.ofSeconds(3)),
				new TimelinePoint(T0.plusSeconds(1), 37, Duration.ofSeconds(4))));
		given(this.store.peakGraph("inc-1")).willReturn(Optional.of("{\"target\":\"orders\",\"edgeCount\":38}"));
		this.mvc.perform(get("/api/v1/incidents/inc-1"))
			.andExpect(status().isOk())
			.andExpect(jsonPath("$.incident.id").value("inc-1"))
			.andExpect(jsonPath("$.timeline[1].queueDepth").value(37))
			.andExpect(jsonPath("$.timeline[1].maxWaitSeconds").value(4.0))
			.andExpect(jsonPath("$.graphAtPeak.edgeCount").value(38));
	}

	@Test
	void oneIncidentCarriesWhatTheGuardDidAboutIt() throws Exception {
		given(this.store.findById("inc-1")).willReturn(Optional.of(incident()));
		given(this.guardLog.forIncident("orders/ddl-lock-queue/4243@1")).willReturn(List.of(
				new GuardRecord(T0.plusSeconds(30), "orders", "orders/ddl-lock-queue/4243@1", GuardAction.CANCEL_DDL,
						"guard", GuardMode.DRY_RUN, 4243, T0.minusSeconds(60), "migrate", "deploy", GuardOutcome.DRY_RUN,
						"kept 37 queued for 30 s"),
				new GuardRecord(T0.plusSeconds(40), "orders", "orders/ddl-lock-queue/4243@1", GuardAction.CANCEL_DDL,
						"operator:alice", GuardMode.DRY_RUN, 4243, T0.minusSeconds(60), "migrate", "deploy",
						GuardOutcome.CANCELLED, "cancelled from the dashboard")));
		this.mvc.perform(get("/api/v1/incidents/inc-1"))
			.andExpect(status().isOk())
			.andExpect(jsonPath("$.guardActions.length()").value(2))
			.andExpect(jsonPath("$.guardActions[0].at").value("2026-11-23T12:00:30Z"))
			.andExpect(jsonPath("$.guardActions[0].action").value("cancel-ddl"))
			.andExpect(jsonPath("$.guardActions[0].actor").value("guard"))
			.andExpect(jsonPath("$.guardActions[0].mode").value("dry-run"))
			.andExpect(jsonPath("$.guardActions[0].outcome").value("dry-run"))
			.andExpect(jsonPath("$.guardActions[0].pid").value(4243))
			.andExpect(jsonPath("$.guardActions[0].backendStart").value("2026-11-23T11:59:00Z"))
			.andExpect(jsonPath("$.guardActions[0].reason").value("kept 37 queued for 30 s"))
			.andExpect(jsonPath("$.guardActions[1].actor").value("operator:alice"))
			.andExpect(jsonPath("$.guardActions[1].outcome").value("cancelled"));
	}

	@Test
	void aGraphAtPeakOfAnUnknownSchemaVersionIsNullNotAnError() throws Exception {
		given(this.store.findById("inc-1")).willReturn(Optional.of(incident()));
		given(this.store.timeline("inc-1")).willReturn(List.of(new TimelinePoint(T0, 5, Duration.ofSeconds(3))));
		given(this.store.peakGraph("inc-1")).willReturn(Optional.of("{\"schemaVersion\":2,\"nodes\":[]}"));
		this.mvc.perform(get("/api/v1/incidents/inc-1"))
			.andExpect(status().isOk())
			.andExpect(jsonPath("$.incident.id").value("inc-1"))
			.andExpect(jsonPath("$.timeline[0].queueDepth").value(5))
			.andExpect(jsonPath("$.graphAtPeak").doesNotExist());
	}

	@Test
	void unknownIncidentIs404ProblemDetail() throws Exception {
		given(this.store.findById("nope")).willReturn(Optional.empty());
		this.mvc.perform(get("/api/v1/incidents/nope"))
			.andExpect(status().isNotFound())
			.andExpect(content().contentTypeCompatibleWith("application/problem+json"))
			.andExpect(jsonPath("$.detail").value(containsString("no incident with id 'nope'")));
	}

	@Test
	void badStateIs400ProblemDetail() throws Exception {
		this.mvc.perform(get("/api/v1/incidents").param("state", "closed"))
			.andExpect(status().isBadRequest())
			.andExpect(content().contentTypeCompatibleWith("application/problem+json"))
			.andExpect(jsonPath("$.detail").value(containsString("state must be 'open' or 'resolved'")));
	}

	@Test
	void badKindTargetAndLimitAre400() throws Exception {
		this.mvc.perform(get("/api/v1/incidents").param("kind", "deadlock"))
			.andExpect(status().isBadRequest())
			.andExpect(jsonPath("$.detail").value(containsString("unknown incident kind 'deadlock'")));
		this.mvc.perform(get("/api/v1/incidents").param("target", "billing"))
			.andExpect(status().isBadRequest())
			.andExpect(jsonPath("$.detail").value(containsString("target 'billing' is not configured")));
		this.mvc.perform(get("/api/v1/incidents").param("limit", "0")).andExpect(status().isBadRequest());
		this.mvc.perform(get("/api/v1/incidents").param("limit", "many"))
			.andExpect(status().isBadRequest())
			.andExpect(content().contentTypeCompatibleWith("application/problem+json"))
			// what the parameter accepts, in words, never a Java type name
			.andExpect(jsonPath("$.detail").value("parameter 'limit' must be a whole number, not 'many'"));
	}

	@Test
	void unknownTargetIs404() throws Exception {
		this.mvc.perform(get("/api/v1/targets/billing/graph"))
			.andExpect(status().isNotFound())
			.andExpect(content().contentTypeCompatibleWith("application/problem+json"));
		this.mvc.perform(get("/api/v1/targets/orders/graph"))
			.andExpect(status().isServiceUnavailable())
			.andExpect(jsonPath("$.detail").value(containsString("has not been polled yet")));
	}


	@Test
	void badAlertStateIs400() throws Exception {
		this.mvc.perform(get("/api/v1/alerts").param("state", "lost"))
			.andExpect(status().isBadRequest())
			.andExpect(content().contentTypeCompatibleWith("application/problem+json"))
			.andExpect(jsonPath("$.detail").value(containsString("state must be 'pending', 'failed' or 'sent'")));
	}

}

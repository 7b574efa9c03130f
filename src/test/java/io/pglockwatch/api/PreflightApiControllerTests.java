package io.pglockwatch.api;

import java.time.Instant;
import java.util.List;

import io.pglockwatch.poll.TargetStates;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.preflight.PreflightResult;
import io.pglockwatch.preflight.PreflightService;
import io.pglockwatch.security.SecurityConfiguration;
import io.pglockwatch.sql.StatementLockModes.Classification;
import io.pglockwatch.sql.StatementLockModes;
import io.pglockwatch.testsupport.AllProperties;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.Mockito;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.nullValue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

@WebMvcTest(PreflightApiController.class)
@Import({ SecurityConfiguration.class, AllProperties.class })
@org.springframework.test.context.TestPropertySource(properties = { "pglockwatch.security.login-required=false",
		"pglockwatch.targets[0].name=orders", "pglockwatch.targets[0].url=jdbc:postgresql://db:5432/app" })
class PreflightApiControllerTests {

	@Autowired
	MockMvc mvc;

	@Autowired
	TargetStatus status;

	@MockitoBean
	PreflightService preflight;

	@TestConfiguration
	static class Targets {

		@Bean
		TargetStatus targetStatus() {
			return new TargetStatus(List.of("orders"));
		}

	}

	private ResultActions preflight(String... parameters) throws Exception {
		var request = get("/api/v1/targets/orders/preflight");
		for (int i = 0; i < parameters.length; i += 2) {
			request = request.param(parameters[i], parameters[i + 1]);
		}
		return this.mvc.perform(request);
	}

	private ResultActions expectProblem(ResultActions result, int status, String detail) throws Exception {
		return result.andExpect(status().is(status))
			.andExpect(content().contentTypeCompatibleWith("application/problem+json"))
			.andExpect(jsonPath("$.detail").value(containsString(detail)));
	}

	@Test
	void unsafeAnswerNamesTheHolder() throws Exception {
		PreflightResult.Conflict holder = new PreflightResult.Conflict(4242, "public.users", "AccessShareLock", true,
				"idle in transaction", "reporting", "report", "10.0.0.3", 720.5, "SELECT * FROM users LIMIT ?", null);
		given(this.preflight.check(eq("orders"), any(Classification.class))).willReturn(new PreflightResult(false,
				"AccessExclusiveLock", List.of(new PreflightResult.RelationCheck("public.users", "users",
						"AccessExclusiveLock", 16384)), List.of(holder), List.of()));
		preflight("statement", "ALTER TABLE users ADD COLUMN x int").andExpect(status().isOk())
			.andExpect(jsonPath("$.target").value("orders"))
			.andExpect(jsonPath("$.safe").value(false))
			.andExpect(jsonPath("$.mode").value("AccessExclusiveLock"))
			.andExpect(jsonPath("$.statementKind").value("ALTER TABLE ADD COLUMN"))
			.andExpect(jsonPath("$.concurrently").value(false))
			.andExpect(jsonPath("$.relations[0].relation").value("public.users"))
			.andExpect(jsonPath("$.relations[0].requested").value("users"))
			.andExpect(jsonPath("$.relations[0].oid").value(16384))
			.andExpect(jsonPath("$.conflicts[0].pid").value(4242))
			.andExpect(jsonPath("$.conflicts[0].granted").value(true))
			.andExpect(jsonPath("$.conflicts[0].applicationName").value("reporting"))
			.andExpect(jsonPath("$.conflicts[0].user").value("report"))
			.andExpect(jsonPath("$.conflicts[0].clientAddress").value("10.0.0.3"))
			.andExpect(jsonPath("$.conflicts[0].transactionAgeSeconds").value(720.5))
			.andExpect(jsonPath("$.olderTransactions").isEmpty());
		ArgumentCaptor<Classification> asked = ArgumentCaptor.forClass(Classification.class);
		Mockito.verify(this.preflight).check(eq("orders"), asked.capture());
		org.assertj.core.api.Assertions.assertThat(asked.getValue())
			.isEqualTo(StatementLockModes.classify("ALTER TABLE users ADD COLUMN x int"));
	}

	@Test
	void relationAndModeAreCheckedAsGiven() throws Exception {
		given(this.preflight.check(eq("orders"), any(Classification.class)))
			.willReturn(new PreflightResult(true, "ShareLock", List.of(), List.of(), List.of()));
		preflight("relation", "public.users", "mode", "ShareLock").andExpect(status().isOk())
			.andExpect(jsonPath("$.safe").value(true))
			.andExpect(jsonPath("$.statementKind").value(nullValue()));
		ArgumentCaptor<Classification> asked = ArgumentCaptor.forClass(Classification.class);
		Mockito.verify(this.preflight).check(eq("orders"), asked.capture());
		org.assertj.core.api.Assertions.assertThat(asked.getValue().relations())
			.containsExactly(new StatementLockModes.RelationLock("public.users", LockMode.SHARE));
	}

	@Test
	void aDdlOnAHotStandbyIs409WithoutAskingTheTarget() throws Exception {
		TargetStates.standby(this.status, "orders", LockWaitGraph.empty("orders", Instant.now()));
		try {
			aStandbyAnswers();
		}
		finally {
			TargetStates.reset(this.status, "orders");
		}
	}

	private void aStandbyAnswers() throws Exception {
		expectProblem(preflight("statement", "ALTER TABLE users ADD COLUMN note text"), 409, "is a hot standby");
		expectProblem(preflight("relation", "public.users", "mode", "ShareLock"), 409, "ask the preflight of its primary");
		Mockito.verifyNoInteractions(this.preflight);
		// a read lock may be taken on a standby: that question is answered
		given(this.preflight.check(eq("orders"), any(Classification.class)))
			.willReturn(new PreflightResult(true, "AccessShareLock", List.of(), List.of(), List.of()));
		preflight("relation", "public.users", "mode", "AccessShareLock").andExpect(status().isOk());
	}

	@Test
	void unknownTargetIs404() throws Exception {
		expectProblem(this.mvc.perform(get("/api/v1/targets/billing/preflight").param("relation", "users")
			.param("mode", "AccessExclusiveLock")), 404, "unknown target 'billing'; configured: [orders]");
	}

	@Test
	void neitherOrBothParametersAre400() throws Exception {
		expectProblem(preflight(), 400, "pass statement=<DDL statement> or relation=<name>&mode=<lock mode>");
		expectProblem(preflight("relation", "users", "mode", "ShareLock", "statement", "LOCK users"), 400, "not both");
		expectProblem(preflight("relation", "users"), 400, "relation= needs mode=");
		expectProblem(preflight("statement", "LOCK users", "mode", "ShareLock"), 400, "mode= goes with relation=");
		verifyNoInteractions(this.preflight);
	}

	@Test
	void badModeIs400ListingTheModes() throws Exception {
		expectProblem(preflight("relation", "users", "mode", "SuperExclusive"), 400,
				"'SuperExclusive' is not a lock mode; expected one of [AccessShareLock,");
	}

	@Test
	void badRelationNameIs400() throws Exception {
		expectProblem(preflight("relation", "a.b.c", "mode", "ShareLock"), 400, "has 3 parts");
	}

	@Test
	void unclassifiableStatementIs400() throws Exception {
		expectProblem(preflight("statement", "GRANT SELECT ON t TO x"), 400,
				"cannot classify 'GRANT SELECT ON t TO x': not a DDL statement pg-lockwatch knows; pass relation= and mode= instead");
		verifyNoInteractions(this.preflight);
	}

	@Test
	void unknownRelationIs400() throws Exception {
		given(this.preflight.check(eq("orders"), any(Classification.class)))
			.willThrow(new PreflightService.UnknownRelationException("orders", java.util.Set.of("nope"), "public"));
		expectProblem(preflight("relation", "nope", "mode", "ShareLock"), 400, "relation 'nope' not found on target orders");
	}

	@Test
	void unreachableTargetIs503WithTheReason() throws Exception {
		given(this.preflight.check(eq("orders"), any(Classification.class))).willThrow(
				new PreflightService.TargetUnavailableException("target orders cannot be read: Connection to db:5432 refused",
						null));
		expectProblem(preflight("statement", "CREATE INDEX ON users (x)"), 503, "Connection to db:5432 refused");
	}

}

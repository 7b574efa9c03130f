package io.pglockwatch.api;

import java.util.Arrays;
import java.util.List;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.preflight.PreflightResult;
import io.pglockwatch.preflight.PreflightService;
import io.pglockwatch.sql.QualifiedName;
import io.pglockwatch.sql.StatementLockModes.Classification;
import io.pglockwatch.sql.StatementLockModes;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * {@code GET /api/v1/targets/{name}/preflight}: would this lock, or this DDL statement, queue on the target right
 * now? Unlike the other endpoints this one reads the target live, once per call, on the monitor's own sessions.
 */
@RestController
@RequestMapping(path = "/api/v1/targets", produces = "application/json")
class PreflightApiController {

	private final TargetStatus status;

	private final PreflightService preflight;

	PreflightApiController(TargetStatus status, PreflightService preflight) {
		this.status = status;
		this.preflight = preflight;
	}

	@GetMapping("/{name}/preflight")
	PreflightView preflight(@PathVariable String name, @RequestParam(required = false) String relation,
			@RequestParam(required = false) String mode, @RequestParam(required = false) String statement) {
		if (this.status.get(name) == null) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND,
					"unknown target '" + name + "'; configured: " + this.status.names());
		}
		boolean byRelation = relation != null && !relation.isBlank();
		boolean byStatement = statement != null && !statement.isBlank();
		if (byRelation == byStatement) {
			throw badRequest((byRelation ? "pass either" : "pass") + " statement=<DDL statement> or relation=<name>&mode=<lock mode>"
					+ (byRelation ? ", not both" : ""));
		}
		Classification classification = byStatement ? classify(statement, mode) : relationAndMode(relation, mode);
		try {
			PreflightResult result = this.preflight.check(name, classification);
			return new PreflightView(name, result.safe(), result.mode(), classification.statementKind(),
					classification.concurrently(), result.relations(), result.conflicts(), result.olderTransactions());
		}
		catch (PreflightService.UnknownRelationException ex) {
			throw badRequest(ex.getMessage());
		}
		catch (PreflightService.TargetUnavailableException ex) {
			throw new ResponseStatusException(HttpStatus.SERVICE_UNAVAILABLE, ex.getMessage());
		}
	}

	private static Classification classify(String statement, String mode) {
		if (mode != null) {
			throw badRequest("mode= goes with relation=; a statement's lock modes come from the statement itself");
		}
		try {
			return StatementLockModes.classify(statement);
		}
		catch (StatementLockModes.UnclassifiableStatementException ex) {
			throw badRequest(ex.getMessage());
		}
	}

	private static Classification relationAndMode(String relation, String mode) {
		if (mode == null || mode.isBlank()) {
			throw badRequest("relation= needs mode=, one of " + Arrays.stream(LockMode.values()).map(LockMode::pgName).toList());
		}
		try {
			QualifiedName.parse(relation);
			LockMode lockMode = LockMode.of(mode);
			return new Classification(lockMode, List.of(new StatementLockModes.RelationLock(relation, lockMode)), false,
					null);
		}
		catch (IllegalArgumentException ex) {
			throw badRequest(ex.getMessage());
		}
	}

	private static ResponseStatusException badRequest(String reason) {
		return new ResponseStatusException(HttpStatus.BAD_REQUEST, reason);
	}

	/**
	 * The JSON answer.
	 * @param statementKind the command of {@code statement=}, e.g. {@code ALTER TABLE ADD COLUMN}; null for
	 * {@code relation=}
	 * @param concurrently the statement runs in several transactions and waits for older ones
	 */
	record PreflightView(String target, boolean safe, String mode, String statementKind, boolean concurrently,
			List<PreflightResult.RelationCheck> relations, List<PreflightResult.Conflict> conflicts,
			List<PreflightResult.Conflict> olderTransactions) {
	}

}

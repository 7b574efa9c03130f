package io.pglockwatch.api;

import java.util.Arrays;
import java.util.List;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;
import io.pglockwatch.preflight.PreflightResult;
import io.pglockwatch.preflight.PreflightService;
import io.pglockwatch.sql.QualifiedName;
import io.pglockwatch.sql.StatementLockModes.Classification;
import io.pglockwatch.sql.StatementLockModes;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

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
@Tag(name = "preflight", description = "Would this DDL queue on the target right now? (docs/preflight.md)")
class PreflightApiController {

	private final TargetStatus status;

	private final PreflightService preflight;

	PreflightApiController(TargetStatus status, PreflightService preflight) {
		this.status = status;
		this.preflight = preflight;
	}

	@Operation(summary = "Would this statement, or this lock, queue on the target now?",
			description = "Pass either statement= (a DDL statement, whose lock modes come from the statement) or "
					+ "relation= with mode=. Reads the target live, once per call.")
	@ApiResponse(responseCode = "200", description = "The answer: safe is true when nothing holds a conflicting lock")
	@ApiResponse(responseCode = "404", description = "No target of this name is configured")
	@ApiResponse(responseCode = "409", description = "The target is a hot standby, where no DDL runs")
	@ApiResponse(responseCode = "503", description = "The target cannot be read right now")
	@GetMapping("/{name}/preflight")
	PreflightView preflight(@Parameter(description = TargetApiController.TARGET_NAME) @PathVariable String name,
			@Parameter(description = "a relation (schema-qualified or not); needs mode=")
			@RequestParam(required = false) String relation,
			@Parameter(description = "the lock mode to check for relation=; case and spaces are ignored (e.g. "
					+ "ACCESS EXCLUSIVE)", schema = @Schema(allowableValues = { "AccessShareLock", "RowShareLock",
							"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock",
							"ExclusiveLock", "AccessExclusiveLock" }))
			@RequestParam(required = false) String mode,
			@Parameter(description = "a DDL statement, e.g. ALTER TABLE orders ADD COLUMN note text")
			@RequestParam(required = false) String statement) {
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
		TargetState state = this.status.get(name);
		if (state.isStandby() && (byStatement || classification.mode().ordinal() > LockMode.ROW_EXCLUSIVE.ordinal())) {
			throw new ResponseStatusException(HttpStatus.CONFLICT, "target '" + name + "' is a hot standby (in "
					+ "recovery): DDL and locks above RowExclusiveLock cannot be taken there, so nothing can queue behind "
					+ "one; ask the preflight of its primary. (Locks replayed from the primary show in the live graph "
					+ "and open replay-lock-queue incidents.)");
		}
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
	@Schema(name = "Preflight", description = "Whether the statement, or the lock, would queue on the target now "
			+ "(docs/preflight.md)")
	record PreflightView(String target, boolean safe, String mode, String statementKind, boolean concurrently,
			List<PreflightResult.RelationCheck> relations, List<PreflightResult.Conflict> conflicts,
			List<PreflightResult.Conflict> olderTransactions) {
	}

}

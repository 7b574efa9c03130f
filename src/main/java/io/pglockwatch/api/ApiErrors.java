package io.pglockwatch.api;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * Every API error is {@code application/problem+json}, also the unexpected ones: those are logged with their
 * stack trace and answered with a 500 that says nothing of the internals.
 */
@RestControllerAdvice(assignableTypes = { TargetApiController.class, IncidentApiController.class,
		AlertApiController.class, PreflightApiController.class })
public class ApiErrors {

	private static final Logger logger = LoggerFactory.getLogger(ApiErrors.class);

	@ExceptionHandler(Exception.class)
	ResponseEntity<ProblemDetail> unexpected(Exception ex) throws Exception {
		if (ex instanceof ErrorResponse response) {
			return ResponseEntity.status(response.getStatusCode()).body(response.getBody());
		}
		if (ex instanceof MissingServletRequestParameterException missing) {
			return badRequest("parameter '" + missing.getParameterName() + "' is required");
		}
		if (ex instanceof MethodArgumentTypeMismatchException mismatch) {
			return badRequest("parameter '" + mismatch.getName() + "' must be " + accepted(mismatch.getRequiredType())
					+ ", not '" + mismatch.getValue() + "'");
		}
		if (ex instanceof DataAccessException) {
			// the store is down, full or locked: say so, without its SQL or its own words; the live API goes on
			logger.warn("API request not answered: the incident store cannot be read ({})", ex.getClass().getSimpleName());
			return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
				.body(ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
						"the incident store cannot be read right now; /api/v1/targets and the live graphs still "
								+ "answer, and the store health component says why"));
		}
		logger.error("API request failed", ex);
		return ResponseEntity.internalServerError()
			.body(ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
					"pg-lockwatch failed to answer this request; the service log has the details"));
	}

	private static ResponseEntity<ProblemDetail> badRequest(String detail) {
		return ResponseEntity.badRequest().body(ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, detail));
	}

	/** What a parameter of this type accepts, in words a caller reads, not a Java type name. */
	static String accepted(Class<?> type) {
		if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
			return "a whole number";
		}
		if (type == boolean.class || type == Boolean.class) {
			return "true or false";
		}
		if (type != null && type.isEnum()) {
			return "one of " + Arrays.stream(type.getEnumConstants())
				.map((c) -> ((Enum<?>) c).name().toLowerCase(Locale.ROOT).replace('_', '-'))
				.collect(Collectors.joining(", "));
		}
		return "a valid value";
	}

}

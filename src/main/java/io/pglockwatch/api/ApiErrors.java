package io.pglockwatch.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
		if (ex instanceof MissingServletRequestParameterException
				|| ex instanceof MethodArgumentTypeMismatchException) {
			ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, ex.getMessage());
			return ResponseEntity.badRequest().body(problem);
		}
		logger.error("API request failed", ex);
		return ResponseEntity.internalServerError()
			.body(ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
					"pg-lockwatch failed to answer this request; the service log has the details"));
	}

}

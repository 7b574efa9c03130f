package io.pglockwatch.security;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Answers requests that no part of the service can serve with a short problem+json and one log line, before they
 * reach anything that would fail with a stack trace: a multipart body (the service takes no uploads: 415), query or
 * form parameters that are not valid percent-encoded UTF-8 (400), and a direct request for the error page (404).
 * Anyone can send these without logging in, so none of them may fill the log.
 */
final class RequestHygieneFilter extends OncePerRequestFilter {

	private static final Logger logger = LoggerFactory.getLogger(RequestHygieneFilter.class);

	private final ProblemResponses problems;

	RequestHygieneFilter(ProblemResponses problems) {
		this.problems = problems;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		String contentType = request.getContentType();
		if (contentType != null && contentType.regionMatches(true, 0, "multipart/", 0, "multipart/".length())) {
			refuse(request, response, HttpStatus.UNSUPPORTED_MEDIA_TYPE,
					"multipart requests are not accepted: pg-lockwatch takes no uploads; send JSON or a form");
			return;
		}
		if ((request.getContextPath() + "/error").equals(request.getRequestURI())) {
			refuse(request, response, HttpStatus.NOT_FOUND, "no such page");
			return;
		}
		try {
			request.getParameterMap(); // parsed once here, where a decoding failure can be answered as such
		}
		catch (IllegalArgumentException | IllegalStateException ex) {
			refuse(request, response, HttpStatus.BAD_REQUEST,
					"a query or form parameter is not valid percent-encoded UTF-8");
			return;
		}
		chain.doFilter(request, response);
	}

	private void refuse(HttpServletRequest request, HttpServletResponse response, HttpStatus status, String detail)
			throws IOException {
		logger.info("{} {} from {}: {} ({})", request.getMethod(), request.getRequestURI(), request.getRemoteAddr(),
				status.value(), detail);
		this.problems.write(request, response, status, detail);
	}

}

package io.pglockwatch.dashboard;

import java.io.IOException;

import io.pglockwatch.security.SecurityProperties;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.ModelAttribute;

/**
 * What every page's layout needs: whether login is on (when off, a banner says so), whether single sign-on is on; and the answer of every page
 * when the incident store cannot be read.
 */
@ControllerAdvice(assignableTypes = { DashboardController.class, IncidentPageController.class, LoginController.class })
class PageModel {

	private static final Logger logger = LoggerFactory.getLogger(PageModel.class);

	private final SecurityProperties security;

	PageModel(SecurityProperties security) {
		this.security = security;
	}

	@ModelAttribute("loginRequired")
	boolean loginRequired() {
		return this.security.loginRequired();
	}

	/** Whether the login page offers single sign-on. */
	@ModelAttribute("singleSignOn")
	boolean singleSignOn() {
		return this.security.oidc().enabled();
	}

	/** Whether the login page shows the form for local users: not when single sign-on is the only way in. */
	@ModelAttribute("localUsers")
	boolean localUsers() {
		return !this.security.users().isEmpty() || !this.security.oidc().enabled();
	}

	/**
	 * A page that needs the incident store while it cannot be read: 503 with an error page that says so, without the
	 * SQL or the database's own words.
	 */
	@ExceptionHandler(DataAccessException.class)
	void storeUnavailable(DataAccessException ex, HttpServletResponse response) throws IOException {
		logger.warn("Page not shown: the incident store cannot be read ({})", ex.getClass().getSimpleName());
		response.sendError(HttpStatus.SERVICE_UNAVAILABLE.value(), "The incident store cannot be read right now; "
				+ "the dashboard's live view still works, and the store health component says why");
	}

}

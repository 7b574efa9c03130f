package io.pglockwatch.dashboard;

import io.pglockwatch.poll.PgLockwatchProperties;

import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ModelAttribute;

/** What every page's layout needs: whether login is on (when off, a banner says so). */
@ControllerAdvice(assignableTypes = { DashboardController.class, IncidentPageController.class, LoginController.class })
class PageModel {

	private final PgLockwatchProperties properties;

	PageModel(PgLockwatchProperties properties) {
		this.properties = properties;
	}

	@ModelAttribute("loginRequired")
	boolean loginRequired() {
		return this.properties.security().loginRequired();
	}

}

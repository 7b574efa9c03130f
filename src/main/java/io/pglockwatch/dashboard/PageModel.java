package io.pglockwatch.dashboard;

import io.pglockwatch.security.SecurityProperties;

import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ModelAttribute;

/** What every page's layout needs: whether login is on (when off, a banner says so). */
@ControllerAdvice(assignableTypes = { DashboardController.class, IncidentPageController.class, LoginController.class })
class PageModel {

	private final SecurityProperties security;

	PageModel(SecurityProperties security) {
		this.security = security;
	}

	@ModelAttribute("loginRequired")
	boolean loginRequired() {
		return this.security.loginRequired();
	}

}

package io.pglockwatch.security;

import java.util.List;

import jakarta.servlet.http.HttpServletResponse;

import org.springframework.context.annotation.Conditional;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.RequestMapping;

/**
 * The 403 page of a person who logged in through single sign-on and has neither role: which claim and values
 * pg-lockwatch looks for, and what the provider sent (never a token).
 */
@Controller
@Conditional(OidcEnabled.class)
class NoRoleController {

	/** The most values of the user's claim shown; a directory may put hundreds of groups in it. */
	private static final int SHOWN_VALUES = 50;

	private final SecurityProperties.Oidc oidc;

	private final RoleClaims roles;

	NoRoleController(SecurityProperties security) {
		this.oidc = security.oidc();
		this.roles = new RoleClaims(this.oidc);
	}

	// any method: the page is shown in place of whatever request was refused (GET or POST)
	@RequestMapping(SingleSignOn.NO_ROLE_PATH)
	String noRole(Authentication authentication, Model model, HttpServletResponse response) {
		if (!(authentication instanceof OAuth2AuthenticationToken sso)) {
			return "redirect:/login";
		}
		if (sso.getAuthorities().stream().anyMatch((a) -> a.getAuthority().equals("ROLE_" + SecurityConfiguration.VIEWER))) {
			return "redirect:/";
		}
		List<String> values = this.roles.valuesIn(sso.getPrincipal().getAttributes());
		response.setStatus(HttpStatus.FORBIDDEN.value());
		model.addAttribute("user", sso.getName());
		model.addAttribute("issuer", this.oidc.issuerUri());
		model.addAttribute("claim", this.roles.claim());
		model.addAttribute("viewerValues", this.roles.viewerValues());
		model.addAttribute("operatorValues", this.roles.operatorValues());
		model.addAttribute("values", values.stream().limit(SHOWN_VALUES).toList());
		model.addAttribute("moreValues", Math.max(0, values.size() - SHOWN_VALUES));
		return "sso-no-role";
	}

}

package io.pglockwatch.security;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * The one mapping from a provider's claims to pg-lockwatch's roles, for people who log in through single sign-on and
 * for JWT bearer tokens alike: a value of {@code operator-values} in the role claim makes an operator (and a viewer),
 * a value of {@code viewer-values} a viewer, anything else nothing.
 */
final class RoleClaims {

	private final String claim;

	private final List<String> viewerValues;

	private final List<String> operatorValues;

	RoleClaims(SecurityProperties.Oidc oidc) {
		this.claim = oidc.roleClaim();
		this.viewerValues = oidc.viewerValues();
		this.operatorValues = oidc.operatorValues();
	}

	/** ROLE_VIEWER and ROLE_OPERATOR as the claims grant them; empty when they grant neither. */
	List<GrantedAuthority> authorities(Map<String, Object> claims) {
		List<String> values = valuesIn(claims);
		if (values.stream().anyMatch(this.operatorValues::contains)) {
			return List.of(new SimpleGrantedAuthority("ROLE_" + SecurityConfiguration.VIEWER),
					new SimpleGrantedAuthority("ROLE_" + SecurityConfiguration.OPERATOR));
		}
		if (values.stream().anyMatch(this.viewerValues::contains)) {
			return List.of(new SimpleGrantedAuthority("ROLE_" + SecurityConfiguration.VIEWER));
		}
		return List.of();
	}

	/**
	 * The values of the role claim: a JSON array of strings, or one string. A dotted name that is not a claim of its
	 * own reaches into nested objects ({@code realm_access.roles}).
	 */
	List<String> valuesIn(Map<String, Object> claims) {
		Object value = claims.containsKey(this.claim) ? claims.get(this.claim) : nested(claims, this.claim);
		List<String> values = new ArrayList<>();
		if (value instanceof Collection<?> collection) {
			collection.stream().filter((v) -> v != null).map(Object::toString).forEach(values::add);
		}
		else if (value instanceof String single) {
			values.add(single);
		}
		return values;
	}

	String claim() {
		return this.claim;
	}

	List<String> viewerValues() {
		return this.viewerValues;
	}

	List<String> operatorValues() {
		return this.operatorValues;
	}

	private static Object nested(Map<String, Object> claims, String path) {
		Object current = claims;
		for (String part : path.split("\\.")) {
			if (!(current instanceof Map<?, ?> map)) {
				return null;
			}
			current = map.get(part);
		}
		return current;
	}

}

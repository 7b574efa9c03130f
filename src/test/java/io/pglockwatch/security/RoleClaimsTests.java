package io.pglockwatch.security;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.security.core.GrantedAuthority;

import static org.assertj.core.api.Assertions.assertThat;

/** One mapping from claims to roles, for login and JWT bearer tokens alike. */
class RoleClaimsTests {

	private static RoleClaims roles(String claim) {
		return new RoleClaims(new SecurityProperties.Oidc("https://login.example.com", "pg-lockwatch", "secret", claim,
				List.of("sre-viewers", "dev"), List.of("sre-operators"), List.of("openid"), ""));
	}

	private static List<String> authorities(RoleClaims roles, Map<String, Object> claims) {
		return roles.authorities(claims).stream().map(GrantedAuthority::getAuthority).toList();
	}

	@Test
	void aViewerValueMakesAViewer() {
		assertThat(authorities(roles("groups"), Map.of("groups", List.of("staff", "dev")))).containsExactly("ROLE_VIEWER");
	}

	@Test
	void anOperatorValueMakesAnOperatorWhoIsAlsoAViewer() {
		assertThat(authorities(roles("groups"), Map.of("groups", List.of("sre-viewers", "sre-operators"))))
			.containsExactly("ROLE_VIEWER", "ROLE_OPERATOR");
	}

	@Test
	void otherValuesAMissingClaimOrAnotherTypeMakeNothing() {
		assertThat(authorities(roles("groups"), Map.of("groups", List.of("staff")))).isEmpty();
		assertThat(authorities(roles("groups"), Map.of("roles", List.of("sre-operators")))).isEmpty();
		assertThat(authorities(roles("groups"), Map.of("groups", 42))).isEmpty();
		assertThat(authorities(roles("groups"), Map.of("groups", "SRE-OPERATORS"))).as("values match exactly").isEmpty();
	}

	@Test
	void oneStringIsOneValue() {
		assertThat(authorities(roles("role"), Map.of("role", "sre-operators"))).contains("ROLE_OPERATOR");
	}

	@Test
	void aDottedClaimReachesIntoNestedObjects() {
		Map<String, Object> keycloak = Map.of("realm_access", Map.of("roles", List.of("sre-operators")));
		assertThat(authorities(roles("realm_access.roles"), keycloak)).contains("ROLE_OPERATOR");
		assertThat(roles("realm_access.roles").valuesIn(keycloak)).containsExactly("sre-operators");
	}

}

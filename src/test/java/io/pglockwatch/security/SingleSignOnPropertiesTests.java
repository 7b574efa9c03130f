package io.pglockwatch.security;

import io.pglockwatch.testsupport.AllProperties;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Import;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pglockwatch.security.oidc.*}: what binds, what stops startup, and that the secret stays out of sight. */
class SingleSignOnPropertiesTests {

	private static final String SECRET = "s3cr3t-of-the-client";

	private static final String[] ONE_TARGET = { "pglockwatch.targets[0].name=orders",
			"pglockwatch.targets[0].url=jdbc:postgresql://db.example:5432/app" };

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
		.withUserConfiguration(Config.class)
		.withPropertyValues(ONE_TARGET);

	@Import(AllProperties.class)
	static class Config {

	}

	private void assertFailure(String expected, String... properties) {
		this.runner.withPropertyValues(properties).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(AllProperties.messages(context.getStartupFailure())).contains(expected).doesNotContain(SECRET);
		});
	}

	@Test
	void offByDefaultWithGroupsAsTheRolesClaim() {
		this.runner.withPropertyValues("pglockwatch.security.login-required=false").run((context) -> {
			assertThat(context).hasNotFailed();
			SecurityProperties.Oidc oidc = context.getBean(SecurityProperties.class).oidc();
			assertThat(oidc.enabled()).isFalse();
			assertThat(oidc.roleClaim()).isEqualTo("groups");
			assertThat(oidc.scopes()).containsExactly("openid", "profile", "email");
		});
	}

	@Test
	void singleSignOnAloneIsEnoughForLogin() {
		this.runner
			.withPropertyValues("pglockwatch.security.oidc.issuer-uri=https://login.example.com/realms/sre",
					"pglockwatch.security.oidc.client-id=pg-lockwatch", "pglockwatch.security.oidc.client-secret=" + SECRET,
					"pglockwatch.security.oidc.viewer-values[0]=sre-viewers",
					"pglockwatch.security.oidc.operator-values[0]=sre-operators")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				SecurityProperties security = context.getBean(SecurityProperties.class);
				assertThat(security.users()).isEmpty();
				assertThat(security.oidc().enabled()).isTrue();
				assertThat(security.oidc().viewerValues()).containsExactly("sre-viewers");
				assertThat(security.toString()).doesNotContain(SECRET);
			});
	}

	@Test
	void anIssuerNeedsTheClient() {
		assertFailure("pglockwatch.security.oidc.client-id and pglockwatch.security.oidc.client-secret must be set",
				"pglockwatch.security.oidc.issuer-uri=https://login.example.com",
				"pglockwatch.security.oidc.client-id=pg-lockwatch", "pglockwatch.security.oidc.viewer-values[0]=sre");
	}

	@Test
	void anIssuerNeedsAtLeastOneRoleValue() {
		assertFailure("otherwise nobody who logs in gets a role",
				"pglockwatch.security.oidc.issuer-uri=https://login.example.com",
				"pglockwatch.security.oidc.client-id=pg-lockwatch", "pglockwatch.security.oidc.client-secret=" + SECRET);
	}

	@Test
	void theOpenidScopeIsRequired() {
		assertFailure("pglockwatch.security.oidc.scopes must include openid",
				"pglockwatch.security.oidc.issuer-uri=https://login.example.com",
				"pglockwatch.security.oidc.client-id=pg-lockwatch", "pglockwatch.security.oidc.client-secret=" + SECRET,
				"pglockwatch.security.oidc.viewer-values[0]=sre", "pglockwatch.security.oidc.scopes[0]=profile");
	}

	@Test
	void theIssuerIsAnHttpUrl() {
		assertFailure("pglockwatch.security.oidc.issuer-uri", "pglockwatch.security.oidc.issuer-uri=login.example.com",
				"pglockwatch.security.oidc.client-id=pg-lockwatch", "pglockwatch.security.oidc.client-secret=" + SECRET,
				"pglockwatch.security.oidc.viewer-values[0]=sre");
	}

	@Test
	void withoutSingleSignOnLocalUsersAreStillRequired() {
		assertFailure("pglockwatch.security.users must name at least one user",
				"pglockwatch.security.login-required=true");
	}

}

package io.pglockwatch.security;

import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.JwtException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatRuntimeException;

/**
 * A provider that does not answer (nothing listens on 127.0.0.1:1) neither stops startup nor reads as a bad token:
 * its configuration is read when first needed, and failing to read it is a service failure.
 */
class ProviderDownTests {

	private static final SecurityProperties.Oidc DOWN = new SecurityProperties.Oidc("http://127.0.0.1:1/realms/sre",
			"pg-lockwatch", "secret", "groups", List.of("sre-viewers"), List.of(), List.of("openid"), "");

	@Test
	void nothingIsReadUntilSomeoneLogsIn() {
		ProviderRegistration registrations = new ProviderRegistration(DOWN);
		assertThat(registrations.findByRegistrationId("other")).isNull();
		assertThatRuntimeException().isThrownBy(() -> registrations.findByRegistrationId(ProviderRegistration.REGISTRATION_ID))
			.withMessageContaining("127.0.0.1:1")
			.withMessageNotContaining("secret");
	}

	@Test
	void aJwtWhileTheProviderIsDownIsAServiceFailureNotABadToken() {
		var decoder = SingleSignOn.decoder(DOWN);
		assertThatExceptionOfType(JwtException.class).isThrownBy(() -> decoder.decode("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"))
			.isNotInstanceOf(BadJwtException.class)
			.withMessageContaining("127.0.0.1:1");
	}

}

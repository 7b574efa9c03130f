package io.pglockwatch.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.client.registration.ClientRegistrations;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;

/**
 * pg-lockwatch's one client registration at the OpenID Connect provider, made from
 * {@code pglockwatch.security.oidc.*} and the provider's discovery document. The document is read on the first login
 * (and read again on the next one until it has been read once), not at startup: a provider that is down while
 * pg-lockwatch starts must not stop it watching locks, and local users and static tokens keep working meanwhile.
 */
final class ProviderRegistration implements ClientRegistrationRepository {

	static final String REGISTRATION_ID = "sso";

	private static final Logger logger = LoggerFactory.getLogger(ProviderRegistration.class);

	private final SecurityProperties.Oidc oidc;

	private volatile ClientRegistration registration;

	ProviderRegistration(SecurityProperties.Oidc oidc) {
		this.oidc = oidc;
	}

	@Override
	public ClientRegistration findByRegistrationId(String registrationId) {
		if (!REGISTRATION_ID.equals(registrationId)) {
			return null;
		}
		ClientRegistration known = this.registration;
		if (known != null) {
			return known;
		}
		synchronized (this) {
			if (this.registration == null) {
				this.registration = discover();
			}
			return this.registration;
		}
	}

	private ClientRegistration discover() {
		try {
			ClientRegistration discovered = ClientRegistrations.fromIssuerLocation(this.oidc.issuerUri())
				.registrationId(REGISTRATION_ID)
				.clientName("single sign-on")
				.clientId(this.oidc.clientId())
				.clientSecret(this.oidc.clientSecret())
				.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
				.authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
				.redirectUri("{baseUrl}/login/oauth2/code/{registrationId}")
				.scope(this.oidc.scopes())
				.build();
			logger.info("Single sign-on through {} (client {})", this.oidc.issuerUri(), this.oidc.clientId());
			return discovered;
		}
		catch (RuntimeException ex) {
			// the message names the issuer and what went wrong, never the client secret
			logger.warn("Single sign-on is unavailable: the OpenID Connect provider {} did not give its configuration "
					+ "({}); the next login tries again", this.oidc.issuerUri(), ex.getMessage());
			throw ex;
		}
	}

}

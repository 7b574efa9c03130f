package io.pglockwatch.security;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;

/**
 * The beans of single sign-on, made only while {@code pglockwatch.security.oidc.issuer-uri} is set. The client
 * registration is built from {@code pglockwatch.security.oidc.*}, not from Spring Boot's
 * {@code spring.security.oauth2.client.*}.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication
@Conditional(OidcEnabled.class)
class SingleSignOnConfiguration {

	@Bean
	ClientRegistrationRepository clientRegistrationRepository(SecurityProperties security) {
		return new ProviderRegistration(security.oidc());
	}

	@Bean
	SingleSignOn singleSignOn(SecurityProperties security, ClientRegistrationRepository clientRegistrationRepository,
			ProblemResponses problems) {
		return new SingleSignOn(security.oidc(), clientRegistrationRepository, problems);
	}

}

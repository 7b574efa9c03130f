package io.pglockwatch.poll;

import java.util.Set;
import java.util.TreeSet;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.context.ApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Stops startup on a {@code pglockwatch.*} key that no feature binds, e.g. {@code pglockwatch.gaurd.mode}. Each
 * feature's properties record rejects unknown keys inside its own section ({@code ignoreUnknownFields = false}); this
 * check covers the sections themselves, which are read from the {@link ConfigurationProperties} beans, so a new
 * feature's section is known as soon as its record exists ({@code targets} and {@code query-text} are the keys of
 * {@link TargetsProperties} itself). Environment variables are not checked: a misspelled one
 * cannot be told from an unrelated variable that happens to start with {@code PGLOCKWATCH_}.
 */
public final class UnknownPropertiesCheck implements InitializingBean {

	private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("pglockwatch");

	private final ConfigurableEnvironment environment;

	private final ApplicationContext context;

	public UnknownPropertiesCheck(ConfigurableEnvironment environment, ApplicationContext context) {
		this.environment = environment;
		this.context = context;
	}

	@Override
	public void afterPropertiesSet() {
		Set<String> sections = knownSections();
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(this.environment)) {
			if (!(source instanceof IterableConfigurationPropertySource iterable)
					|| source.getUnderlyingSource() instanceof SystemEnvironmentPropertySource) {
				continue;
			}
			iterable.stream().filter(ROOT::isAncestorOf).forEach((name) -> {
				String section = name.getElement(1, ConfigurationPropertyName.Form.DASHED);
				if (!sections.contains(section)) {
					throw new IllegalStateException("Unknown property " + name + " (" + source
							+ "): pglockwatch.* has the sections " + String.join(", ", sections)
							+ "; see docs/configuration.md");
				}
			});
		}
	}

	private Set<String> knownSections() {
		// the test fixtures' own switches (pglockwatch.test.postgres, ...), never read by the service
		Set<String> sections = new TreeSet<>(Set.of("targets", "query-text", "test"));
		for (String name : this.context.getBeanNamesForAnnotation(ConfigurationProperties.class)) {
			ConfigurationProperties annotation = this.context.findAnnotationOnBean(name, ConfigurationProperties.class);
			String prefix = (annotation == null) ? "" : annotation.prefix();
			if (ConfigurationPropertyName.isValid(prefix) && ROOT.isAncestorOf(ConfigurationPropertyName.of(prefix))) {
				sections.add(ConfigurationPropertyName.of(prefix).getElement(1, ConfigurationPropertyName.Form.DASHED));
			}
		}
		return sections;
	}

}

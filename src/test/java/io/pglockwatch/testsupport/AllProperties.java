package io.pglockwatch.testsupport;

import io.pglockwatch.alert.AlertProperties;
import io.pglockwatch.cluster.ClusterProperties;
import io.pglockwatch.guard.GuardProperties;
import io.pglockwatch.incident.DetectionProperties;
import io.pglockwatch.incident.IncidentProperties;
import io.pglockwatch.poll.ConfigurationCheck;
import io.pglockwatch.poll.PollProperties;
import io.pglockwatch.poll.TargetsProperties;
import io.pglockwatch.security.SecurityProperties;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

/** Every feature's {@code pglockwatch.*} properties record and the check for keys none of them binds. */
@EnableConfigurationProperties({ TargetsProperties.class, PollProperties.class, DetectionProperties.class,
		IncidentProperties.class, AlertProperties.class, SecurityProperties.class, GuardProperties.class,
		ClusterProperties.class })
@Import(ConfigurationCheck.class)
public class AllProperties {

	/** Every message of a startup failure and its causes, one per line: what a person reads at startup. */
	public static String messages(Throwable failure) {
		StringBuilder all = new StringBuilder();
		for (Throwable t = failure; t != null; t = t.getCause()) {
			all.append(t.getMessage()).append('\n');
		}
		return all.toString();
	}

}

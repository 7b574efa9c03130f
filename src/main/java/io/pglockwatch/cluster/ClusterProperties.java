package io.pglockwatch.cluster;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.function.Supplier;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The replicas that share one PostgreSQL store ({@code pglockwatch.cluster.*}). A replica with its own H2 file is a
 * cluster of one.
 *
 * @param instanceName this replica's name among the replicas of a store, the holder of the leases it takes; empty
 * means the environment variable {@code HOSTNAME} (a pod's name in Kubernetes), else the host name
 * @param lease a leader that has not renewed its lease for this long has lost it; see {@link #renewInterval()}
 * @param shards targets are split over this many shards, each with one leader at a time
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.cluster", ignoreUnknownFields = false)
public record ClusterProperties(
		@NotBlank(message = "must not be blank: set it, or HOSTNAME") @Size(max = MAX_INSTANCE_NAME,
				message = "must be at most {max} characters") String instanceName,
		@NotNull @DurationMin(seconds = 2, message = "must be at least 2s") @DefaultValue("10s") Duration lease,
		@Min(value = 1, message = "must be at least 1") @Max(value = 1024, message = "must be at most 1024")
		@DefaultValue("1") int shards) {

	/** The width of {@code cluster_lease.holder}. */
	static final int MAX_INSTANCE_NAME = 200;

	public ClusterProperties {
		instanceName = instanceNameOr(instanceName, System.getenv("HOSTNAME"), ClusterProperties::hostName);
	}

	/** How often a leader renews: a third of the lease, so two renewals in a row may fail before it lapses. */
	public Duration renewInterval() {
		return this.lease.dividedBy(3);
	}

	/** The given name, else {@code HOSTNAME}, else the host name; surrounding blanks removed, blank when none is known. */
	static String instanceNameOr(String given, String hostnameVariable, Supplier<String> hostName) {
		if (given != null && !given.isBlank()) {
			return given.strip();
		}
		if (hostnameVariable != null && !hostnameVariable.isBlank()) {
			return hostnameVariable.strip();
		}
		String name = hostName.get();
		return (name != null) ? name.strip() : "";
	}

	private static String hostName() {
		try {
			return InetAddress.getLocalHost().getHostName();
		}
		catch (UnknownHostException ex) {
			return null;
		}
	}

}

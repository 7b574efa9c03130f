package io.pglockwatch.cluster;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a replica names itself when {@code pglockwatch.cluster.instance-name} is not set, and how often it renews; the
 * binding rules are tested in PropertiesBindingTests.
 */
class ClusterPropertiesTests {

	@Test
	void instanceNameFallsBackToHostnameThenTheHostName() {
		assertThat(ClusterProperties.instanceNameOr("pod-1", "host-a", () -> "machine")).isEqualTo("pod-1");
		assertThat(ClusterProperties.instanceNameOr(" pod-1 ", "host-a", () -> "machine")).isEqualTo("pod-1");
		assertThat(ClusterProperties.instanceNameOr("", "host-a", () -> "machine")).isEqualTo("host-a");
		assertThat(ClusterProperties.instanceNameOr(null, " ", () -> "machine")).isEqualTo("machine");
		assertThat(ClusterProperties.instanceNameOr(null, null, () -> null)).isEmpty();
		assertThat(new ClusterProperties(null, Duration.ofSeconds(10), 1).instanceName()).isNotBlank();
	}

	@Test
	void leadersRenewWellWithinTheLease() {
		assertThat(new ClusterProperties("a", Duration.ofSeconds(10), 1).renewInterval()).hasMillis(3333);
	}

}

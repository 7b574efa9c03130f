package io.pglockwatch.cluster;

import javax.sql.DataSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The leases of this replica in the store, its row among the members, the election over them, and {@link Cluster},
 * through which the recorder, the alert outbox and the guard act only for the shards this replica leads.
 */
@Configuration(proxyBeanMethods = false)
class ClusterConfiguration {

	@Bean
	ClusterLease clusterLease(DataSource dataSource, ClusterProperties properties) {
		return new ClusterLease(dataSource, properties);
	}

	@Bean
	ClusterMembers clusterMembers(DataSource dataSource, ClusterProperties properties) {
		return new ClusterMembers(dataSource, properties);
	}

	@Bean
	Leadership leadership(ClusterLease clusterLease, ClusterMembers clusterMembers, ClusterProperties properties,
			ObjectProvider<LeadershipListener> listeners) {
		return new Leadership(clusterLease, clusterMembers, properties, listeners);
	}

	@Bean
	Cluster cluster(Leadership leadership, ClusterLease clusterLease, ClusterProperties properties,
			DataSource dataSource) {
		return new Cluster(leadership, clusterLease, properties, dataSource);
	}

	/** Named so the health component is {@code cluster}. */
	@Bean
	ClusterHealthIndicator clusterHealthIndicator(Cluster cluster) {
		return new ClusterHealthIndicator(cluster);
	}

}

package io.pglockwatch.cluster;

import javax.sql.DataSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The leases of this replica in the store, its row among the members, and the election over them. The election
 * runs, but nothing acts on it yet: every replica still polls every target; fencing store writes, outbox claims and
 * guard claims comes next.
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

}

package io.pglockwatch.cluster;

import javax.sql.DataSource;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The leases of this replica in the store. Nothing takes one yet: the election that decides which replica polls which
 * shard, and the fencing of store writes, outbox claims and guard claims, use this bean once they are wired in.
 */
@Configuration(proxyBeanMethods = false)
class ClusterConfiguration {

	@Bean
	ClusterLease clusterLease(DataSource dataSource, ClusterProperties properties) {
		return new ClusterLease(dataSource, properties);
	}

}

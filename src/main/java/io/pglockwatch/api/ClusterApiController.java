package io.pglockwatch.api;

import java.util.List;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/v1/cluster}: who leads what among the replicas that share the store. */
@RestController
@RequestMapping(path = "/api/v1/cluster", produces = "application/json")
@Tag(name = "cluster", description = "The replicas that share the incident store, and the leader of each shard")
public class ClusterApiController {

	private final Cluster cluster;

	private final TargetStatus targets;

	ClusterApiController(Cluster cluster, TargetStatus targets) {
		this.cluster = cluster;
		this.targets = targets;
	}

	@Operation(summary = "The replicas and the leader of each shard",
			description = "As this replica saw the store at its last election round. Only a shard's leader records "
					+ "incidents, sends alerts and runs the guard for its targets; every replica answers the "
					+ "dashboard and API for every target.")
	@ApiResponse(responseCode = "200", description = "The cluster")
	@GetMapping
	ClusterView cluster() {
		List<String> names = this.targets.all().stream().map(TargetState::name).toList();
		return ClusterView.of(this.cluster, names);
	}

}

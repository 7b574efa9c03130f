package io.pglockwatch.dashboard;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import io.pglockwatch.alert.AlertDelivery;
import io.pglockwatch.api.GraphView;
import io.pglockwatch.api.IncidentView;
import io.pglockwatch.api.TargetView;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.guard.Guard;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.incident.StoreWriter;
import io.pglockwatch.poll.PollProperties;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;

import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.util.UriUtils;

/**
 * The dashboard: every target's state (searched, sorted and paged by {@link TargetTable}), open incidents, and the
 * selected target's live lock-wait graph. One template serves the whole page and the fragment htmx fetches every
 * poll interval, with the same parameters; it shows the start of each statement, and one session's whole statement
 * has a page of its own.
 */
@Controller
class DashboardController {

	private final TargetStatus targets;

	private final IncidentRecorder incidents;

	private final IncidentStore store;

	private final PollProperties poll;

	private final Guard guard;

	private final AlertDelivery alerts;

	private final Cluster cluster;

	DashboardController(TargetStatus targets, IncidentRecorder incidents, IncidentStore store,
			PollProperties poll, Guard guard, AlertDelivery alerts, Cluster cluster) {
		this.cluster = cluster;
		this.guard = guard;
		this.alerts = alerts;
		this.targets = targets;
		this.incidents = incidents;
		this.store = store;
		this.poll = poll;
	}

	/**
	 * Which replica this page comes from and what it leads, when there is more than one replica or this one cannot
	 * lead; null for a replica alone (an H2 store, or the only replica), where it would say nothing.
	 */
	private String clusterNote() {
		String problem = this.cluster.problem();
		int members = this.cluster.members().size();
		if (problem == null && members <= 1) {
			return null;
		}
		List<Integer> leads = this.cluster.shardStates()
			.entrySet()
			.stream()
			.filter((e) -> e.getValue().thisReplica())
			.map(Map.Entry::getKey)
			.toList();
		String self = "Replica " + this.cluster.instanceName() + ((members > 0) ? " of " + members : "");
		if (problem != null) {
			return self + ": it records, alerts and guards nothing now, " + problem + ".";
		}
		return self + (leads.isEmpty() ? "; another replica records incidents, alerts and guards (see /api/v1/cluster)."
				: "; it polls, records incidents, alerts and guards for shard(s) " + leads
						+ ", and shows the other targets as the replicas that poll them publish them.");
	}

	@GetMapping("/")
	String dashboard(@RequestParam(required = false) String target, @RequestParam(required = false) String q,
			@RequestParam(required = false) String sort, @RequestParam(required = false) String page,
			@RequestParam(required = false) String size, Model model) {
		live(target, TargetTable.Query.of(q, sort, page, size), model);
		return "dashboard";
	}

	@GetMapping("/fragments/live")
	String fragment(@RequestParam(required = false) String target, @RequestParam(required = false) String q,
			@RequestParam(required = false) String sort, @RequestParam(required = false) String page,
			@RequestParam(required = false) String size, Model model) {
		live(target, TargetTable.Query.of(q, sort, page, size), model);
		return "dashboard :: live";
	}

	private void live(String target, TargetTable.Query table, Model model) {
		String selected = (target == null || target.isBlank()) ? this.targets.names().get(0) : target;
		TargetState state = this.targets.get(selected);
		if (state == null) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND, "unknown target '" + selected + "'");
		}
		model.addAttribute("table", TargetTable.page(
				TargetView.all(this.targets.all(), this.incidents::openCount, this.guard::problem, this.cluster), table));
		model.addAttribute("selected", selected);
		model.addAttribute("refreshMillis", this.poll.interval().toMillis());
		model.addAttribute("selectedState", TargetView.of(state, this.incidents.openCount(selected), this.cluster));
		model.addAttribute("picture", state.freshGraph() == null ? null
				: GraphPicture.of(GraphView.of(state.freshGraph()), sessionsPath(selected)));
		// the live part goes on while the store fails: what it cannot read is left out and the page says why
		StoreWriter.Failure failure = this.incidents.storeFailure();
		List<IncidentView> open = List.of();
		List<AlertDelivery.Channel> rejecting = List.of();
		String storeProblem = null;
		try {
			if (failure != null) {
				storeProblem = "writes to it have failed since " + failure.since() + " (" + failure.error() + ")";
			}
			else {
				open = this.store.find(new IncidentQuery(IncidentState.OPEN, null, null, 20))
					.stream()
					.map(IncidentView::of)
					.toList();
				// in the live part, so a refusal shows up on an open page within a poll interval
				rejecting = this.alerts.rejecting();
			}
		}
		catch (DataAccessException ex) {
			storeProblem = "it cannot be read (" + ex.getClass().getSimpleName() + ")";
		}
		model.addAttribute("openIncidents", open);
		model.addAttribute("rejectingChannels", rejecting);
		model.addAttribute("storeProblem", storeProblem);
		model.addAttribute("clusterNote", clusterNote());
	}

	/** One session of the live graph with its whole statement, as long as it still waits or blocks. */
	@GetMapping("/targets/{target}/sessions/{pid}")
	String session(@PathVariable String target, @PathVariable int pid, Model model) {
		TargetState state = this.targets.get(target);
		if (state == null) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND, "unknown target '" + target + "'");
		}
		LockWaitGraph graph = state.freshGraph();
		GraphView.Session session = (graph == null) ? null : GraphView.of(graph)
			.sessions()
			.stream()
			.filter((s) -> s.pid() == pid && s.gid() == null)
			.findFirst()
			.orElse(null);
		if (session == null) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND,
					"pid " + pid + " no longer waits for or blocks anyone on target '" + target + "'");
		}
		String back = UriUtils.encodeQueryParam(target, StandardCharsets.UTF_8);
		model.addAttribute("statement", SessionStatement.of(session, "Live on " + target, "/?target=" + back,
				"Back to the live graph of " + target));
		return "statement";
	}

	private static String sessionsPath(String target) {
		return "/targets/" + UriUtils.encodePathSegment(target, StandardCharsets.UTF_8) + "/sessions";
	}

}

package io.pglockwatch.dashboard;

import java.util.List;

import io.pglockwatch.alert.AlertDelivery;
import io.pglockwatch.api.GraphView;
import io.pglockwatch.api.IncidentView;
import io.pglockwatch.api.TargetView;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.guard.Guard;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentRecorder;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.poll.PollProperties;
import io.pglockwatch.poll.TargetState;
import io.pglockwatch.poll.TargetStatus;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;

/**
 * The dashboard: every target's state, open incidents, and the selected target's live lock-wait graph. One
 * template serves the whole page and the fragment htmx fetches every poll interval.
 */
@Controller
class DashboardController {

	private final TargetStatus targets;

	private final IncidentRecorder incidents;

	private final IncidentStore store;

	private final PollProperties poll;

	private final Guard guard;

	private final AlertDelivery alerts;

	DashboardController(TargetStatus targets, IncidentRecorder incidents, IncidentStore store,
			PollProperties poll, Guard guard, AlertDelivery alerts) {
		this.guard = guard;
		this.alerts = alerts;
		this.targets = targets;
		this.incidents = incidents;
		this.store = store;
		this.poll = poll;
	}

	@GetMapping("/")
	String dashboard(@RequestParam(required = false) String target, Model model) {
		live(target, model);
		return "dashboard";
	}

	@GetMapping("/fragments/live")
	String fragment(@RequestParam(required = false) String target, Model model) {
		live(target, model);
		return "dashboard :: live";
	}

	private void live(String target, Model model) {
		String selected = (target == null || target.isBlank()) ? this.targets.names().get(0) : target;
		TargetState state = this.targets.get(selected);
		if (state == null) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND, "unknown target '" + selected + "'");
		}
		model.addAttribute("targets",
				this.targets.all().stream().map((s) -> TargetView.of(s, this.incidents.openCount(s.name()), this.guard.problem(s.name()))).toList());
		model.addAttribute("selected", selected);
		model.addAttribute("refreshMillis", this.poll.interval().toMillis());
		model.addAttribute("selectedState", TargetView.of(state, this.incidents.openCount(selected)));
		model.addAttribute("picture", state.freshGraph() == null ? null : GraphPicture.of(GraphView.of(state.freshGraph())));
		List<IncidentView> open = this.store.find(new IncidentQuery(IncidentState.OPEN, null, null, 20))
			.stream()
			.map(IncidentView::of)
			.toList();
		model.addAttribute("openIncidents", open);
		// in the live part, so a refusal shows up on an open page within a poll interval
		model.addAttribute("rejectingChannels", this.alerts.rejecting());
	}

}

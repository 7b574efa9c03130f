package io.pglockwatch.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.pglockwatch.alert.AlertOutbox;
import io.pglockwatch.api.GraphView;
import io.pglockwatch.api.IncidentView;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.graph.LockWaitGraph;
import io.pglockwatch.graph.SessionNode;
import io.pglockwatch.guard.Guard;
import io.pglockwatch.guard.GuardLog;
import io.pglockwatch.guard.GuardRecord;
import io.pglockwatch.incident.IncidentQuery;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.incident.PeakGraph;
import io.pglockwatch.poll.TargetStatus;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;
import org.springframework.web.util.UriUtils;

/**
 * Incident history with filters, one incident in full, and its postmortem exports. The incident page shows the start
 * of long statements; each session's whole statement has a page of its own.
 */
@Controller
class IncidentPageController {

	private final IncidentStore store;

	private final AlertOutbox alerts;

	private final TargetStatus targets;

	private final JsonMapper json;

	private final GuardLog guardLog;

	private final Guard guard;

	IncidentPageController(IncidentStore store, AlertOutbox alerts, TargetStatus targets, JsonMapper json,
			GuardLog guardLog, Guard guard) {
		this.store = store;
		this.alerts = alerts;
		this.targets = targets;
		this.json = json;
		this.guardLog = guardLog;
		this.guard = guard;
	}

	@GetMapping("/incidents")
	String incidents(@RequestParam(required = false) String target, @RequestParam(required = false) String kind,
			@RequestParam(required = false) String state, Model model) {
		String t = blankToNull(target);
		String k = blankToNull(kind);
		String s = blankToNull(state);
		if (t != null && this.targets.get(t) == null) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "target '" + t + "' is not configured");
		}
		IncidentKind parsedKind = null;
		if (k != null) {
			try {
				parsedKind = IncidentKind.of(k);
			}
			catch (IllegalArgumentException ex) {
				throw new ResponseStatusException(HttpStatus.BAD_REQUEST, ex.getMessage());
			}
		}
		IncidentState parsedState = null;
		if (s != null) {
			parsedState = switch (s) {
				case "open" -> IncidentState.OPEN;
				case "resolved" -> IncidentState.RESOLVED;
				default -> throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
						"state must be 'open' or 'resolved', not '" + s + "'");
			};
		}
		model.addAttribute("incidents",
				this.store.find(new IncidentQuery(parsedState, t, parsedKind, 200)).stream().map(IncidentView::of).toList());
		model.addAttribute("targetNames", this.targets.names());
		model.addAttribute("target", t);
		model.addAttribute("kind", k);
		model.addAttribute("state", s);
		return "incidents";
	}

	@GetMapping("/incidents/{id}")
	String incident(@PathVariable String id, Model model) {
		Incident incident = find(id);
		List<TimelinePoint> timeline = this.store.timeline(id);
		model.addAttribute("incident", IncidentView.of(incident));
		model.addAttribute("ddlStatement",
				incident.ddl() == null ? null : Excerpt.of(incident.ddl().session().statement(), Excerpt.IN_SECTION));
		model.addAttribute("rootStatement", incident.rootBlocker() == null ? null
				: Excerpt.of(incident.rootBlocker().statement(), Excerpt.IN_SECTION));
		model.addAttribute("chart", TimelineChart.of(timeline));
		Optional<String> stored = this.store.peakGraph(id);
		GraphPicture picture = null;
		String pictureProblem = null;
		if (stored.isPresent()) {
			try {
				picture = GraphPicture.of(GraphView.of(PeakGraph.read(this.json, stored.get())), path(id) + "/sessions");
			}
			catch (PeakGraph.UnreadableException ex) {
				// the rest of the incident is still worth seeing: say why the graph is missing instead of failing
				pictureProblem = "Unavailable: " + ex.getMessage() + ".";
			}
		}
		model.addAttribute("picture", picture);
		model.addAttribute("pictureProblem", pictureProblem);
		model.addAttribute("alerts", this.alerts.forIncident(id).stream().map(IncidentView.Alert::of).toList());
		model.addAttribute("guardActions", this.guardLog.forIncident(incident.dedupKey()));
		model.addAttribute("guardMode", this.guard.mode().label());
		model.addAttribute("canCancel", incident.isActive() && liveDdl(incident) != null);
		return "incident";
	}

	/**
	 * One session of the incident with its whole statement: {@code ddl} (the waiting DDL as recorded),
	 * {@code root-blocker}, or the pid of a session in the graph at peak.
	 */
	@GetMapping("/incidents/{id}/sessions/{session}")
	String session(@PathVariable String id, @PathVariable String session, Model model) {
		Incident incident = find(id);
		String back = path(id);
		String backLabel = "Back to incident " + id;
		SessionStatement found = switch (session) {
			case "ddl" -> (incident.ddl() == null) ? null
					: SessionStatement.of(incident.ddl().session(), "Waiting DDL of incident " + id, back, backLabel);
			case "root-blocker" -> (incident.rootBlocker() == null) ? null
					: SessionStatement.of(incident.rootBlocker(), "Root blocker of incident " + id, back, backLabel);
			default -> peakSession(id, session, back, backLabel);
		};
		if (found == null) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND,
					"incident '" + id + "' has no session '" + session + "'");
		}
		model.addAttribute("statement", found);
		return "statement";
	}

	private SessionStatement peakSession(String id, String pid, String back, String backLabel) {
		int number;
		try {
			number = Integer.parseInt(pid);
		}
		catch (NumberFormatException ex) {
			return null;
		}
		Optional<String> stored = this.store.peakGraph(id);
		if (stored.isEmpty()) {
			return null;
		}
		GraphView graph;
		try {
			graph = GraphView.of(PeakGraph.read(this.json, stored.get()));
		}
		catch (PeakGraph.UnreadableException ex) {
			throw new ResponseStatusException(HttpStatus.NOT_FOUND, "the graph at peak is unavailable: " + ex.getMessage());
		}
		return graph.sessions()
			.stream()
			.filter((s) -> s.pid() == number && s.gid() == null)
			.findFirst()
			.map((s) -> SessionStatement.of(s, "At the peak of incident " + id, back, backLabel))
			.orElse(null);
	}

	private static String path(String id) {
		return "/incidents/" + UriUtils.encodePathSegment(id, StandardCharsets.UTF_8);
	}

	/**
	 * An operator cancels the waiting DDL of an open incident (one confirmed click; operator role and CSRF token
	 * required). The guard's safety checks apply and the action is recorded like a guard action.
	 */
	@PostMapping("/incidents/{id}/cancel-ddl")
	String cancelDdl(@PathVariable String id, Principal principal, RedirectAttributes redirect) {
		Incident incident = find(id);
		SessionNode ddl = incident.isActive() ? liveDdl(incident) : null;
		if (ddl == null) {
			redirect.addFlashAttribute("actionResult", "Nothing to cancel: the DDL of this incident is no longer waiting.");
		}
		else {
			GuardRecord record = this.guard.operatorCancel(incident.target(), ddl, incident.dedupKey(),
					principal == null ? "anonymous" : principal.getName());
			redirect.addFlashAttribute("actionResult", "Cancel of pid " + record.pid() + ": " + record.outcome().label()
					+ (record.reason() == null ? "" : " (" + record.reason() + ")"));
		}
		return "redirect:/incidents/" + id;
	}

	/** The incident's DDL in the live graph, if that very session (pid and backend start) still waits. */
	private SessionNode liveDdl(Incident incident) {
		if (incident.ddl() == null) {
			return null;
		}
		var state = this.targets.get(incident.target());
		LockWaitGraph graph = state == null ? null : state.freshGraph();
		if (graph == null) {
			return null;
		}
		SessionNode node = graph.sessions().get(incident.ddl().session().pid());
		if (node == null || node.activity() == null || !node.isWaiting()
				|| !Objects.equals(node.activity().backendStart(), incident.ddl().session().backendStart())) {
			return null;
		}
		return node;
	}

	@GetMapping(path = "/incidents/{id}.md")
	ResponseEntity<String> markdown(@PathVariable String id) {
		Incident incident = find(id);
		String text = IncidentMarkdown.of(incident, this.store.timeline(id), this.alerts.forIncident(id),
				this.guardLog.forIncident(incident.dedupKey()));
		return ResponseEntity.ok()
			.contentType(MediaType.parseMediaType("text/markdown;charset=UTF-8"))
			.header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"incident-" + id + ".md\"")
			.body(text);
	}

	private Incident find(String id) {
		return this.store.findById(id)
			.orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no incident with id '" + id + "'"));
	}

	private static String blankToNull(String value) {
		return (value == null || value.isBlank()) ? null : value;
	}

}

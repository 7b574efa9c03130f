package io.pglockwatch.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A local stand-in for PagerDuty's Events API v2 ({@code POST /v2/enqueue}) on 127.0.0.1, or, with
 * {@link #startWebhook()}, for a generic JSON webhook. Every request is checked against the rules PagerDuty
 * enforces (see {@link #violations()}), so a test can assert that nothing the service sends would be refused
 * by the real endpoint; the fake answers like PagerDuty: 202 for a valid event, 400 {@code invalid event} for
 * an invalid one.
 *
 * <p>Answers are scriptable per request: {@link #enqueue(Reply...)} queues answers used in arrival order
 * (500, 500, 500 then the default; a 429 with or without Retry-After; an answer sent only after a delay
 * longer than the client's read timeout), and {@link #answerAllWith(Supplier)} replaces the default answer.
 *
 * <p>Every request is kept ({@link #requests()}, failed attempts included); {@link #events()} are the ones
 * answered with a 2xx, in arrival order, i.e. the events PagerDuty would have taken.
 */
public final class FakePagerDuty implements AutoCloseable {

	/** PagerDuty's limit on the size of one event. */
	public static final int MAX_BODY_BYTES = 512 * 1024;

	public static final int MAX_SUMMARY = 1024;

	public static final int MAX_DEDUP_KEY = 255;

	public static final String ENQUEUE_PATH = "/v2/enqueue";

	public static final String WEBHOOK_PATH = "/hook";

	private static final Set<String> ACTIONS = Set.of("trigger", "acknowledge", "resolve");

	private static final Set<String> SEVERITIES = Set.of("critical", "error", "warning", "info");

	private static final Set<String> WEBHOOK_EVENTS = Set.of("opened", "escalated", "resolved");

	private final JsonMapper json = JsonMapper.builder().build();

	private final HttpServer server;

	private final ExecutorService handlers;

	/** Null for a webhook: then only the webhook's own shape is checked. */
	private final String routingKey;

	private final String path;

	private final Deque<Reply> script = new ConcurrentLinkedDeque<>();

	private volatile Supplier<Reply> defaultReply;

	/** Guarded by itself; appended to in arrival order, so an index is a position in this list. */
	private final List<Request> requests = new ArrayList<>();

	private final List<Event> events = new CopyOnWriteArrayList<>();

	private final List<String> violations = new CopyOnWriteArrayList<>();

	private FakePagerDuty(String routingKey, String path) {
		this.routingKey = routingKey;
		this.path = path;
		try {
			this.server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 50);
		}
		catch (IOException ex) {
			throw new IllegalStateException("could not start the fake on 127.0.0.1", ex);
		}
		// a thread per request: a delayed answer must not hold up the next request (the client's retry)
		this.handlers = Executors.newCachedThreadPool((r) -> {
			Thread thread = new Thread(r, "fake-pagerduty");
			thread.setDaemon(true);
			return thread;
		});
		this.server.setExecutor(this.handlers);
		this.server.createContext("/", this::handle);
		this.server.start();
	}

	/** PagerDuty Events API v2 that takes events for {@code routingKey} only. */
	public static FakePagerDuty start(String routingKey) {
		if (routingKey == null || routingKey.isEmpty()) {
			throw new IllegalArgumentException("the fake needs the routing key the service is configured with");
		}
		return new FakePagerDuty(routingKey, ENQUEUE_PATH);
	}

	/** A webhook receiver: POST of a JSON {@code {event: opened|escalated|resolved, incident: {...}}}; 200. */
	public static FakePagerDuty startWebhook() {
		return new FakePagerDuty(null, WEBHOOK_PATH);
	}

	/**
	 * A URL on which nobody listens, so a connection is refused: the port was free a moment ago (bound, then
	 * closed again).
	 */
	public static String refusedUrl() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
			return "http://127.0.0.1:" + socket.getLocalPort() + ENQUEUE_PATH;
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	public String url() {
		return "http://127.0.0.1:" + this.server.getAddress().getPort() + this.path;
	}

	/** Answers for the next requests, one each, in arrival order; then the default answer again. */
	public FakePagerDuty enqueue(Reply... replies) {
		Collections.addAll(this.script, replies);
		return this;
	}

	/**
	 * The answer to every request with no queued answer; null restores PagerDuty's behaviour (202 for a valid
	 * event, 400 for an invalid one).
	 */
	public FakePagerDuty answerAllWith(Supplier<Reply> reply) {
		this.defaultReply = reply;
		return this;
	}

	/** Every request received so far, failed attempts included, in arrival order. */
	public List<Request> requests() {
		synchronized (this.requests) {
			return List.copyOf(this.requests);
		}
	}

	/** The events answered with a 2xx so far, in arrival order. */
	public List<Event> events() {
		return List.copyOf(this.events);
	}

	/** What PagerDuty (or the webhook contract) would have refused, one line per problem, naming the request. */
	public List<String> violations() {
		return List.copyOf(this.violations);
	}

	/** Waits until at least {@code count} events were answered with a 2xx, and returns them all. */
	public List<Event> awaitEvents(int count, Duration timeout) {
		await("%d accepted event(s) at the fake".formatted(count)).atMost(timeout)
			.pollInterval(Duration.ofMillis(20))
			.until(() -> this.events.size() >= count);
		return events();
	}

	/** Waits until at least {@code count} requests arrived, answered or not, and returns them all. */
	public List<Request> awaitRequests(int count, Duration timeout) {
		await("%d request(s) at the fake".formatted(count)).atMost(timeout)
			.pollInterval(Duration.ofMillis(20))
			.until(() -> requests().size() >= count);
		return requests();
	}

	@Override
	public void close() {
		this.server.stop(0);
		// wakes handlers still sleeping on a delayed answer
		this.handlers.shutdownNow();
	}

	private void handle(HttpExchange exchange) throws IOException {
		try (exchange) {
			Instant receivedAt = Instant.now();
			long receivedNanos = System.nanoTime();
			byte[] bytes = exchange.getRequestBody().readAllBytes();
			String body = new String(bytes, StandardCharsets.UTF_8);
			String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
			List<String> problems = new ArrayList<>();
			JsonNode parsed = validate(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), contentType,
					bytes.length, body, problems);
			Request request;
			synchronized (this.requests) {
				// chosen under the same lock as the index, so the n-th request gets the n-th queued answer
				Reply reply = this.script.poll();
				if (reply == null) {
					Supplier<Reply> fallback = this.defaultReply;
					reply = (fallback != null) ? fallback.get() : (problems.isEmpty() ? Reply.status(this.routingKey != null ? 202 : 200)
							: Reply.invalidEvent(problems));
				}
				request = new Request(this.requests.size(), receivedAt, receivedNanos, exchange.getRequestMethod(),
						exchange.getRequestURI().getPath(), exchange.getProtocol(), headers(exchange), contentType, body,
						parsed, List.copyOf(problems), reply);
				this.requests.add(request);
				for (String problem : problems) {
					this.violations.add("request #" + request.index() + ": " + problem);
				}
			}
			Reply reply = request.reply();
			if (!reply.delay().isZero()) {
				try {
					Thread.sleep(reply.delay().toMillis());
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return; // the fake is closing
				}
			}
			if (reply.status() >= 200 && reply.status() < 300) {
				this.events.add(new Event(request.index(), receivedAt, receivedNanos, parsed));
			}
			String answer = reply.body(request);
			byte[] out = answer.getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().set("Content-Type", "application/json");
			reply.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
			exchange.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
			if (out.length > 0) {
				try (OutputStream stream = exchange.getResponseBody()) {
					if (reply.stall().isZero()) {
						stream.write(out);
					}
					else {
						// the headers and half the body go out, then nothing for a while
						stream.write(out, 0, out.length / 2);
						stream.flush();
						Thread.sleep(reply.stall().toMillis());
						stream.write(out, out.length / 2, out.length - out.length / 2);
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
		}
		catch (IOException ex) {
			// the client gave up (read timeout) before the answer: that is what some tests stage
		}
	}

	private static Map<String, List<String>> headers(HttpExchange exchange) {
		Map<String, List<String>> headers = new LinkedHashMap<>();
		exchange.getRequestHeaders()
			.forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), List.copyOf(values)));
		return Collections.unmodifiableMap(headers);
	}

	private JsonNode validate(String method, String requestPath, String contentType, int size, String body,
			List<String> problems) {
		if (!"POST".equals(method)) {
			problems.add("method " + method + ", expected POST");
		}
		if (!this.path.equals(requestPath)) {
			problems.add("path " + requestPath + ", expected " + this.path);
		}
		if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
			problems.add("Content-Type " + contentType + ", expected application/json");
		}
		if (size >= MAX_BODY_BYTES) {
			problems.add("body of " + size + " bytes, PagerDuty takes less than " + MAX_BODY_BYTES);
		}
		JsonNode event;
		try {
			event = this.json.readTree(body);
		}
		catch (JacksonException ex) {
			problems.add("body is not JSON: " + ex.getOriginalMessage());
			return null;
		}
		if (event == null || !event.isObject()) {
			problems.add("body is not a JSON object");
			return event;
		}
		if (this.routingKey == null) {
			validateWebhook(event, problems);
		}
		else {
			validateEvent(event, problems);
		}
		return event;
	}

	/** The rules of https://developer.pagerduty.com/docs/send-alert-event (Events API v2). */
	private void validateEvent(JsonNode event, List<String> problems) {
		JsonNode key = event.get("routing_key");
		if (key == null || !key.isString() || key.stringValue().isEmpty()) {
			problems.add("routing_key missing");
		}
		else if (!key.stringValue().equals(this.routingKey)) {
			// never the value itself: this text ends up in test reports
			problems.add("routing_key is not the configured one");
		}
		String action = text(event, "event_action");
		if (action == null || !ACTIONS.contains(action)) {
			problems.add("event_action " + action + ", expected one of " + ACTIONS);
		}
		JsonNode dedupKey = event.get("dedup_key");
		if (dedupKey != null && !dedupKey.isNull()) {
			if (!dedupKey.isString() || dedupKey.stringValue().isEmpty()) {
				problems.add("dedup_key is not a non-empty string");
			}
			else if (dedupKey.stringValue().length() > MAX_DEDUP_KEY) {
				problems.add("dedup_key of " + dedupKey.stringValue().length() + " characters, at most " + MAX_DEDUP_KEY);
			}
		}
		else if (!"trigger".equals(action)) {
			problems.add("dedup_key missing for " + action);
		}
		if ("trigger".equals(action)) {
			validatePayload(event.get("payload"), problems);
		}
		JsonNode links = event.get("links");
		if (links != null) {
			if (!links.isArray()) {
				problems.add("links is not an array");
			}
			else {
				for (JsonNode link : links) {
					if (text(link, "href") == null) {
						problems.add("links[] without href");
					}
				}
			}
		}
		JsonNode images = event.get("images");
		if (images != null && !images.isArray()) {
			problems.add("images is not an array");
		}
	}

	private static void validatePayload(JsonNode payload, List<String> problems) {
		if (payload == null || !payload.isObject()) {
			problems.add("trigger without a payload object");
			return;
		}
		String summary = text(payload, "summary");
		if (summary == null || summary.isEmpty()) {
			problems.add("payload.summary missing");
		}
		else if (summary.length() > MAX_SUMMARY) {
			problems.add("payload.summary of " + summary.length() + " characters, at most " + MAX_SUMMARY);
		}
		String source = text(payload, "source");
		if (source == null || source.isEmpty()) {
			problems.add("payload.source missing");
		}
		String severity = text(payload, "severity");
		if (severity == null || !SEVERITIES.contains(severity)) {
			problems.add("payload.severity " + severity + ", expected one of " + SEVERITIES);
		}
		JsonNode timestamp = payload.get("timestamp");
		if (timestamp != null && !timestamp.isNull()) {
			try {
				DateTimeFormatter.ISO_DATE_TIME.parse(timestamp.asString());
			}
			catch (DateTimeParseException ex) {
				problems.add("payload.timestamp " + timestamp + " is not ISO 8601");
			}
		}
		for (String field : new String[] { "component", "group", "class" }) {
			JsonNode value = payload.get(field);
			if (value != null && !value.isString()) {
				problems.add("payload." + field + " is not a string");
			}
		}
		JsonNode details = payload.get("custom_details");
		if (details != null && !details.isObject() && !details.isString()) {
			problems.add("payload.custom_details is neither an object nor a string");
		}
	}

	private static void validateWebhook(JsonNode body, List<String> problems) {
		String event = text(body, "event");
		if (event == null || !WEBHOOK_EVENTS.contains(event)) {
			problems.add("event " + event + ", expected one of " + WEBHOOK_EVENTS);
		}
		JsonNode incident = body.get("incident");
		if (incident == null || !incident.isObject() || text(incident, "id") == null) {
			problems.add("incident object with an id missing");
		}
	}

	private static String text(JsonNode node, String field) {
		JsonNode value = (node == null) ? null : node.get(field);
		return (value == null || !value.isString()) ? null : value.stringValue();
	}

	/**
	 * One request as received.
	 *
	 * @param index position in arrival order, from 0
	 * @param receivedNanos {@link System#nanoTime()} at arrival, to measure waits between attempts
	 * @param json the parsed body, null when it was no JSON
	 * @param reply the answer given (or, if the client gave up first, meant to be given)
	 */
	/**
	 * One request as received.
	 *
	 * @param protocol the request line's version, e.g. {@code HTTP/1.1}
	 * @param headers every header, names in lower case, values in arrival order
	 */
	public record Request(int index, Instant receivedAt, long receivedNanos, String method, String path,
			String protocol, Map<String, List<String>> headers, String contentType, String body, JsonNode json,
			List<String> violations, Reply reply) {

		/** The values of a header, in any case; empty when it was not sent. */
		public List<String> header(String name) {
			return this.headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
		}

		/** event_action of an Events v2 body, event of a webhook body. */
		public String action() {
			return Event.action(this.json);
		}

		public String dedupKey() {
			return Event.dedupKey(this.json);
		}

		/** Time from this request's arrival to {@code later}'s. */
		public Duration until(Request later) {
			return Duration.ofNanos(later.receivedNanos() - this.receivedNanos);
		}

	}

	/**
	 * An event the fake accepted (answered with a 2xx).
	 *
	 * @param requestIndex the {@link Request#index()} it came with
	 */
	public record Event(int requestIndex, Instant receivedAt, long receivedNanos, JsonNode json) {

		public String action() {
			return action(this.json);
		}

		public String dedupKey() {
			return dedupKey(this.json);
		}

		static String action(JsonNode json) {
			if (json == null) {
				return null;
			}
			String action = text(json, "event_action");
			return (action != null) ? action : text(json, "event");
		}

		static String dedupKey(JsonNode json) {
			if (json == null) {
				return null;
			}
			String key = text(json, "dedup_key");
			return (key != null) ? key : text(json.get("incident"), "dedupKey");
		}

	}

	/**
	 * An answer of the fake.
	 *
	 * @param body the response body; null for PagerDuty's body for the status
	 * @param echo answer the request body itself, as some proxies and error pages do (to test masking)
	 * @param delay wait this long before answering, e.g. past the client's read timeout
	 * @param stall after the headers and half the body, wait this long before the rest
	 */
	public record Reply(int status, String body, Map<String, String> headers, Duration delay, boolean echo,
			Duration stall) {

		public Reply {
			headers = Map.copyOf(headers);
		}

		/** PagerDuty's answer for the status, e.g. 202 {@code {"status":"success",...}}. */
		public static Reply status(int status) {
			return new Reply(status, null, Map.of(), Duration.ZERO, false, Duration.ZERO);
		}

		public static Reply json(int status, String body) {
			return new Reply(status, body, Map.of(), Duration.ZERO, false, Duration.ZERO);
		}

		/** 429; with Retry-After in seconds when {@code retryAfterSeconds} is not null. */
		public static Reply tooManyRequests(Integer retryAfterSeconds) {
			Reply reply = status(429);
			return (retryAfterSeconds == null) ? reply : reply.withHeader("Retry-After", retryAfterSeconds.toString());
		}

		/** The status with the request body as the response body. */
		public static Reply echo(int status) {
			return new Reply(status, null, Map.of(), Duration.ZERO, true, Duration.ZERO);
		}

		static Reply invalidEvent(List<String> problems) {
			StringBuilder errors = new StringBuilder();
			for (String problem : problems) {
				errors.append(errors.isEmpty() ? "" : ",").append('"').append(problem.replace("\"", "'")).append('"');
			}
			return json(400, "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\",\"errors\":["
					+ errors + "]}");
		}

		public Reply withHeader(String name, String value) {
			Map<String, String> all = new LinkedHashMap<>(this.headers);
			all.put(name, value);
			return new Reply(this.status, this.body, all, this.delay, this.echo, this.stall);
		}

		/** The same answer, sent only after {@code delay}. */
		public Reply after(Duration delay) {
			return new Reply(this.status, this.body, this.headers, delay, this.echo, this.stall);
		}

		/** The same answer, its body stalled half-way for {@code stall}: a read that hangs after the headers. */
		public Reply stalled(Duration stall) {
			return new Reply(this.status, this.body, this.headers, this.delay, this.echo, stall);
		}

		String body(Request request) {
			if (this.echo) {
				return request.body();
			}
			if (this.body != null) {
				return this.body;
			}
			String key = request.dedupKey();
			return switch (this.status) {
				case 200, 202 -> "{\"status\":\"success\",\"message\":\"Event processed\""
						+ (key != null ? ",\"dedup_key\":\"" + key.replace("\"", "\\\"") + "\"" : "") + "}";
				case 400 -> "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\",\"errors\":[]}";
				case 429 -> "{\"status\":\"throttle event\",\"message\":\"Requests for this service are arriving too "
						+ "quickly. Please retry later.\"}";
				default -> "{\"status\":\"error\",\"message\":\"HTTP " + this.status + "\"}";
			};
		}

	}

}

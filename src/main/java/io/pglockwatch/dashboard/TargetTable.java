package io.pglockwatch.dashboard;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import io.pglockwatch.api.TargetView;

import org.springframework.http.HttpStatus;
import org.springframework.web.server.ResponseStatusException;

/**
 * The dashboard's target table at fleet size: the targets that match a search, in one of five orders, one page at a
 * time, done on the server from the query parameters {@code q}, {@code sort}, {@code page} and {@code size}.
 * <p>
 * <b>Search</b> ({@code q}): a case-insensitive substring of the target's name, its role ({@code primary},
 * {@code standby}) or the replica that watches it ({@code watchedBy}); blank matches every target.
 * <p>
 * <b>Orders</b> ({@code sort}), ties broken by name:
 * <ul>
 * <li>{@code trouble} (the default): targets that are down first (their lock queues are unknown, so they may hide
 * anything); then most open incidents, most lock waiters, longest current lock wait; then targets not polled yet
 * before polled ones. So a target not polled yet (only in the first poll interval after a start) comes after every
 * down target and every up target in trouble (an incident or a lock waiter), and before the healthy ones. A target
 * with no figure (down or not polled yet) counts as 0 lock waiters and 0 s of waiting.</li>
 * <li>{@code name}: by name, A to Z.</li>
 * <li>{@code waiters}, {@code wait}, {@code incidents}: most lock waiters, longest current lock wait, most open
 * incidents first; with {@code waiters} and {@code wait}, targets without the figure (down or not polled yet)
 * last.</li>
 * </ul>
 * <p>
 * <b>Pages</b>: {@code page} is 1-based; {@code size} rows a page, {@value #DEFAULT_SIZE} by default, from
 * {@value #MIN_SIZE} to {@value #MAX_SIZE}. A page beyond the last shows the last page (the fleet may have shrunk
 * or the search narrowed since the link was made); no match is one empty page. A bad value of any parameter is a 400
 * that names the parameter and its allowed values.
 * <p>
 * The {@link Summary} counts every target, whatever the search.
 */
public final class TargetTable {

	/** Rows a page unless {@code size} says otherwise. */
	public static final int DEFAULT_SIZE = 50;

	public static final int MIN_SIZE = 10;

	public static final int MAX_SIZE = 200;

	private TargetTable() {
	}

	/** The orders of the table; {@link #key()} is the value of {@code sort}. */
	public enum Sort {

		TROUBLE(Comparator.comparing((TargetView t) -> !Boolean.FALSE.equals(t.up()))
			.thenComparing(Comparator.comparingInt(TargetView::openIncidents).reversed())
			.thenComparing(Comparator.comparingLong(TargetTable::waiters).reversed())
			.thenComparing(Comparator.comparingDouble(TargetTable::longestWait).reversed())
			.thenComparing((TargetView t) -> t.up() != null)),

		NAME(Comparator.comparing(TargetView::name)),

		WAITERS(Comparator.comparing(TargetView::lockWaiters, Comparator.nullsLast(Comparator.reverseOrder()))),

		WAIT(Comparator.comparing(TargetView::longestWaitSeconds, Comparator.nullsLast(Comparator.reverseOrder()))),

		INCIDENTS(Comparator.comparingInt(TargetView::openIncidents).reversed());

		private final Comparator<TargetView> order;

		Sort(Comparator<TargetView> order) {
			this.order = order.thenComparing(TargetView::name);
		}

		/** {@code trouble}, {@code name}, {@code waiters}, {@code wait}, {@code incidents}. */
		public String key() {
			return name().toLowerCase(Locale.ROOT);
		}

		Comparator<TargetView> order() {
			return this.order;
		}

		static Sort of(String key) {
			for (Sort sort : values()) {
				if (sort.key().equals(key)) {
					return sort;
				}
			}
			throw badRequest("sort must be one of " + allowed() + ", not '" + cut(key) + "'");
		}

		static String allowed() {
			return Arrays.stream(values()).map(Sort::key).collect(Collectors.joining(", "));
		}

	}

	/**
	 * What the request asks for, checked.
	 *
	 * @param q the search, trimmed; null for none
	 * @param page 1-based, before it is clamped to the pages there are
	 */
	public record Query(String q, Sort sort, int page, int size) {

		public static final Query DEFAULT = new Query(null, Sort.TROUBLE, 1, DEFAULT_SIZE);

		/**
		 * The query of the request parameters, each null when absent; a blank one counts as absent.
		 * @throws ResponseStatusException 400 naming the parameter and its allowed values
		 */
		public static Query of(String q, String sort, String page, String size) {
			return new Query(blank(q) ? null : q.strip(), blank(sort) ? Sort.TROUBLE : Sort.of(sort.strip()),
					blank(page) ? 1 : number("page", page, 1, Integer.MAX_VALUE),
					blank(size) ? DEFAULT_SIZE : number("size", size, MIN_SIZE, MAX_SIZE));
		}

		private static int number(String param, String value, int min, int max) {
			String allowed = (max == Integer.MAX_VALUE) ? "a whole number from " + min
					: "a whole number from " + min + " to " + max;
			try {
				int n = Integer.parseInt(value.strip());
				if (n >= min && n <= max) {
					return n;
				}
			}
			catch (NumberFormatException ex) {
				// said below
			}
			throw badRequest(param + " must be " + allowed + ", not '" + cut(value) + "'");
		}

		private static boolean blank(String value) {
			return value == null || value.isBlank();
		}

	}

	/**
	 * Counts over every target, whatever the search.
	 *
	 * @param notPolled targets not polled yet
	 */
	public record Summary(int targets, int down, int withIncidents, int withWaiters, int notPolled) {

		/** "1,000 targets: 3 down, 2 with open incidents, 5 with lock waits" (and how many are not polled yet). */
		public String line() {
			String line = thousands(this.targets) + ((this.targets == 1) ? " target: " : " targets: ")
					+ thousands(this.down) + " down, " + thousands(this.withIncidents) + " with open incidents, "
					+ thousands(this.withWaiters)
					+ " with lock waits";
			return (this.notPolled > 0) ? line + ", " + thousands(this.notPolled) + " not polled yet" : line;
		}

	}

	/**
	 * One page of the table.
	 *
	 * @param rows the targets on this page, in order
	 * @param query what was asked for; its page is the one asked for, {@link #page()} the one shown
	 * @param matching how many targets match the search
	 * @param page the page shown, 1-based: the one asked for, or the last when that is beyond it
	 * @param pages how many pages the matching targets fill; 1 when none match
	 * @param summary counts over every target
	 */
	public record Page(List<TargetView> rows, Query query, int matching, int page, int pages, Summary summary) {

		public String q() {
			return this.query.q();
		}

		public Sort sort() {
			return this.query.sort();
		}

		public int size() {
			return this.query.size();
		}

		/** 1-based position of the first row shown among the matching targets; 0 when none match. */
		public int firstRow() {
			return this.rows.isEmpty() ? 0 : (this.page - 1) * size() + 1;
		}

		/** 1-based position of the last row shown among the matching targets; 0 when none match. */
		public int lastRow() {
			return this.rows.isEmpty() ? 0 : firstRow() + this.rows.size() - 1;
		}

		public boolean hasPrevious() {
			return this.page > 1;
		}

		public boolean hasNext() {
			return this.page < this.pages;
		}

		/** "51–100 of 1,000", "1–7 of 7 matching", "none of 1,000 matches": where this page is among the rows. */
		public String position() {
			if (this.matching == 0) {
				return "none of " + thousands(this.summary.targets()) + " matches";
			}
			return thousands(firstRow()) + "–" + thousands(lastRow()) + " of " + thousands(this.matching)
					+ ((this.query.q() != null) ? " matching" : "");
		}

		/**
		 * The dashboard's path with this table's query string ({@code /?target=...&q=...}), with {@code target}
		 * selected, in order {@code sort}, on page {@code page}; the search and the page size stay. Parameters at
		 * their default are left out; every value is percent-encoded.
		 */
		public String link(String target, Sort sort, int page) {
			return "/" + query(target, sort, page);
		}

		/** {@link #link(String, Sort, int)} in the order shown. */
		public String link(String target, int page) {
			return link(target, sort(), page);
		}

		/** {@link #link(String, Sort, int)} on the first page in order {@code sort} ({@link Sort#key()}). */
		public String link(String target, String sort) {
			return link(target, Sort.of(sort), 1);
		}

		/** The live part of the dashboard as shown now, with {@code target} selected: what htmx refreshes. */
		public String refresh(String target) {
			return "/fragments/live" + query(target, sort(), this.page);
		}

		private String query(String target, Sort sort, int page) {
			StringBuilder query = new StringBuilder();
			add(query, "target", target);
			add(query, "q", q());
			add(query, "sort", (sort == Sort.TROUBLE) ? null : sort.key());
			add(query, "page", (page <= 1) ? null : Integer.toString(page));
			add(query, "size", (size() == DEFAULT_SIZE) ? null : Integer.toString(size()));
			return query.toString();
		}

		private static void add(StringBuilder query, String name, String value) {
			if (value != null) {
				query.append(query.isEmpty() ? '?' : '&')
					.append(name)
					.append('=')
					.append(URLEncoder.encode(value, StandardCharsets.UTF_8));
			}
		}

	}

	/** The page {@code query} asks for of {@code targets} (every target, in any order). */
	public static Page page(List<TargetView> targets, Query query) {
		Summary summary = new Summary(targets.size(), count(targets, (t) -> Boolean.FALSE.equals(t.up())),
				count(targets, (t) -> t.openIncidents() > 0), count(targets, (t) -> waiters(t) > 0),
				count(targets, (t) -> t.up() == null));
		List<TargetView> matching = targets.stream().filter(matches(query.q())).sorted(query.sort().order()).toList();
		int pages = Math.max(1, (matching.size() + query.size() - 1) / query.size());
		int page = Math.min(query.page(), pages);
		int from = (page - 1) * query.size();
		List<TargetView> rows = matching.subList(from, Math.min(matching.size(), from + query.size()));
		return new Page(List.copyOf(rows), query, matching.size(), page, pages, summary);
	}

	private static Predicate<TargetView> matches(String q) {
		if (q == null) {
			return (t) -> true;
		}
		String needle = q.toLowerCase(Locale.ROOT);
		return (t) -> contains(t.name(), needle) || contains(t.role(), needle) || contains(t.watchedBy(), needle);
	}

	private static boolean contains(String value, String needle) {
		return value != null && value.toLowerCase(Locale.ROOT).contains(needle);
	}

	private static int count(List<TargetView> targets, Predicate<TargetView> which) {
		return (int) targets.stream().filter(which).count();
	}

	private static long waiters(TargetView target) {
		return (target.lockWaiters() != null) ? target.lockWaiters() : 0;
	}

	private static double longestWait(TargetView target) {
		return (target.longestWaitSeconds() != null) ? target.longestWaitSeconds() : 0;
	}

	/** 1,000 */
	static String thousands(int n) {
		return String.format(Locale.ROOT, "%,d", n);
	}

	private static ResponseStatusException badRequest(String reason) {
		return new ResponseStatusException(HttpStatus.BAD_REQUEST, reason);
	}

	/** A bad value as the error message repeats it: its first 40 characters. */
	private static String cut(String value) {
		return (value.length() <= 40) ? value : value.substring(0, 40) + "…";
	}

}

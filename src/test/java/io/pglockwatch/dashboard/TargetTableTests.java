package io.pglockwatch.dashboard;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import io.pglockwatch.api.TargetView;
import org.junit.jupiter.api.Test;

import org.springframework.http.HttpStatus;
import org.springframework.web.server.ResponseStatusException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TargetTableTests {

	private static TargetView up(String name, long waiters, double longestWait, int incidents) {
		return view(name, true, waiters, longestWait, incidents, "primary", "replica-a");
	}

	private static TargetView down(String name, int incidents) {
		return view(name, false, null, null, incidents, null, "replica-a");
	}

	private static TargetView notPolled(String name) {
		return view(name, null, null, null, 0, null, null);
	}

	private static TargetView view(String name, Boolean up, Long waiters, Double longestWait, int incidents,
			String role, String watchedBy) {
		return new TargetView(name, up, null, null, null, waiters, (up == Boolean.TRUE) ? 0 : null, incidents,
				(up == Boolean.FALSE) ? "Connection refused" : null, (up == Boolean.FALSE) ? "connect" : null, null,
				null, 0, watchedBy, role, null, null, longestWait);
	}

	private static List<String> names(TargetTable.Page page) {
		return page.rows().stream().map(TargetView::name).toList();
	}

	private static TargetTable.Page page(List<TargetView> targets, String q, String sort, String page, String size) {
		return TargetTable.page(targets, TargetTable.Query.of(q, sort, page, size));
	}

	/** Ten targets, one of each kind of trouble, in no particular order. */
	private static List<TargetView> mixed() {
		return List.of(up("healthy-b", 0, 0, 0), up("waits-long", 2, 90, 0), notPolled("new"),
				up("incident-one", 0, 0, 1), down("down-b", 0), up("waits-many", 7, 3, 0), down("down-a", 0),
				up("healthy-a", 0, 0, 0), down("down-with-incident", 1), up("incidents-two", 1, 1, 2));
	}

	@Test
	void troubleOrderIsDownThenIncidentsThenWaitersThenWaitThenNotPolledThenName() {
		TargetTable.Page page = page(mixed(), null, null, null, null);
		assertThat(names(page)).containsExactly("down-with-incident", "down-a", "down-b", "incidents-two",
				"incident-one", "waits-many", "waits-long", "new", "healthy-a", "healthy-b");
		assertThat(page.sort()).isEqualTo(TargetTable.Sort.TROUBLE);
		assertThat(page(mixed(), null, "trouble", null, null).rows()).isEqualTo(page.rows());
	}

	@Test
	void theOtherOrdersPutMostFirstAndTargetsWithoutTheFigureLast() {
		assertThat(names(page(mixed(), null, "name", null, null))).containsExactly("down-a", "down-b",
				"down-with-incident", "healthy-a", "healthy-b", "incident-one", "incidents-two", "new", "waits-long",
				"waits-many");
		assertThat(names(page(mixed(), null, "waiters", null, null))).containsExactly("waits-many", "waits-long",
				"incidents-two", "healthy-a", "healthy-b", "incident-one", "down-a", "down-b", "down-with-incident",
				"new");
		assertThat(names(page(mixed(), null, "wait", null, null))).containsExactly("waits-long", "waits-many",
				"incidents-two", "healthy-a", "healthy-b", "incident-one", "down-a", "down-b", "down-with-incident",
				"new");
		assertThat(names(page(mixed(), null, "incidents", null, null))).startsWith("incidents-two", "down-with-incident",
				"incident-one", "down-a", "down-b");
	}

	@Test
	void theSummaryCountsEveryTargetWhateverTheSearch() {
		TargetTable.Page page = page(mixed(), "healthy", null, null, null);
		assertThat(names(page)).containsExactly("healthy-a", "healthy-b");
		assertThat(page.summary()).isEqualTo(new TargetTable.Summary(10, 3, 3, 3, 1));
		assertThat(page.summary().line())
			.isEqualTo("10 targets: 3 down, 3 with open incidents, 3 with lock waits, 1 not polled yet");
		assertThat(new TargetTable.Summary(1000, 3, 2, 5, 0).line())
			.isEqualTo("1,000 targets: 3 down, 2 with open incidents, 5 with lock waits");
		assertThat(new TargetTable.Summary(1, 0, 0, 0, 0).line())
			.isEqualTo("1 target: 0 down, 0 with open incidents, 0 with lock waits");
	}

	@Test
	void searchIsACaseInsensitiveSubstringOfNameRoleOrReplica() {
		List<TargetView> targets = List.of(view("orders-eu", true, 0L, 0.0, 0, "primary", "lockwatch-0"),
				view("orders-us", true, 0L, 0.0, 0, "standby", "lockwatch-1"),
				view("billing", true, 0L, 0.0, 0, "standby", "lockwatch-0"), notPolled("search"));
		assertThat(names(page(targets, "ORDERS", "name", null, null))).containsExactly("orders-eu", "orders-us");
		assertThat(names(page(targets, "  Stand ", "name", null, null))).containsExactly("billing", "orders-us");
		assertThat(names(page(targets, "lockwatch-0", "name", null, null))).containsExactly("billing", "orders-eu");
		assertThat(names(page(targets, "  ", "name", null, null))).hasSize(4);
		TargetTable.Page none = page(targets, "<script>", null, null, null);
		assertThat(none.rows()).isEmpty();
		assertThat(none.matching()).isZero();
		assertThat(none.page()).isEqualTo(1);
		assertThat(none.pages()).isEqualTo(1);
		assertThat(none.hasNext()).isFalse();
		assertThat(none.hasPrevious()).isFalse();
		assertThat(none.position()).isEqualTo("none of 4 matches");
		assertThat(none.summary().targets()).isEqualTo(4);
	}

	private static List<TargetView> fleet(int n) {
		List<TargetView> targets = new ArrayList<>();
		IntStream.rangeClosed(1, n).forEach((i) -> targets.add(up("t-%04d".formatted(i), 0, 0, 0)));
		return targets;
	}

	@Test
	void pagesOfFiftyByDefaultAndTheLastOnePartial() {
		List<TargetView> targets = fleet(1001);
		TargetTable.Page first = page(targets, null, "name", null, null);
		assertThat(first.rows()).hasSize(50);
		assertThat(first.pages()).isEqualTo(21);
		assertThat(first.page()).isEqualTo(1);
		assertThat(first.hasPrevious()).isFalse();
		assertThat(first.hasNext()).isTrue();
		assertThat(first.position()).isEqualTo("1–50 of 1,001");
		assertThat(names(first)).startsWith("t-0001").endsWith("t-0050");

		TargetTable.Page third = page(targets, null, "name", "3", null);
		assertThat(names(third)).startsWith("t-0101").endsWith("t-0150");

		TargetTable.Page last = page(targets, null, "name", "21", null);
		assertThat(names(last)).containsExactly("t-1001");
		assertThat(last.hasNext()).isFalse();
		assertThat(last.hasPrevious()).isTrue();
		assertThat(last.position()).isEqualTo("1,001–1,001 of 1,001");

		TargetTable.Page big = page(targets, null, "name", "2", "200");
		assertThat(names(big)).startsWith("t-0201").endsWith("t-0400");
		assertThat(big.pages()).isEqualTo(6);
		assertThat(page(fleet(1000), null, null, null, "200").pages()).isEqualTo(5);
		assertThat(page(fleet(1000), null, null, null, "10").rows()).hasSize(10);
	}

	@Test
	void aPageBeyondTheEndShowsTheLastPage() {
		TargetTable.Page page = page(fleet(120), null, "name", "9", null);
		assertThat(page.page()).isEqualTo(3);
		assertThat(page.pages()).isEqualTo(3);
		assertThat(page.query().page()).isEqualTo(9);
		assertThat(names(page)).hasSize(20).startsWith("t-0101").endsWith("t-0120");
		// the search narrowed since the link was made
		TargetTable.Page narrowed = page(fleet(120), "t-01", "name", "2147483647", null);
		assertThat(narrowed.page()).isEqualTo(1);
		assertThat(narrowed.rows()).hasSize(21);
		assertThat(narrowed.position()).isEqualTo("1–21 of 21 matching");
	}

	@Test
	void badValuesAre400sThatNameTheParameterAndWhatIsAllowed() {
		assertBadRequest(() -> TargetTable.Query.of(null, null, null, "9"), "size must be a whole number from 10 to 200, not '9'");
		assertBadRequest(() -> TargetTable.Query.of(null, null, null, "201"), "size must be a whole number from 10 to 200, not '201'");
		assertBadRequest(() -> TargetTable.Query.of(null, null, null, "fifty"), "size must be a whole number from 10 to 200, not 'fifty'");
		assertBadRequest(() -> TargetTable.Query.of(null, null, "0", null), "page must be a whole number from 1, not '0'");
		assertBadRequest(() -> TargetTable.Query.of(null, null, "-1", null), "page must be a whole number from 1, not '-1'");
		assertBadRequest(() -> TargetTable.Query.of(null, null, "2.5", null), "page must be a whole number from 1, not '2.5'");
		assertBadRequest(() -> TargetTable.Query.of(null, "Name", null, null),
				"sort must be one of trouble, name, waiters, wait, incidents, not 'Name'");
		assertBadRequest(() -> TargetTable.Query.of(null, "x".repeat(500), null, null), "not '" + "x".repeat(40) + "…'");
		assertThat(TargetTable.Query.of(null, null, null, "10").size()).isEqualTo(10);
		assertThat(TargetTable.Query.of(null, null, null, " 200 ").size()).isEqualTo(200);
		assertThat(TargetTable.Query.of("", "", "", "")).isEqualTo(TargetTable.Query.DEFAULT);
		assertThat(TargetTable.Query.of(null, null, null, null)).isEqualTo(TargetTable.Query.DEFAULT);
	}

	private static void assertBadRequest(Runnable call, String reason) {
		assertThatThrownBy(call::run).isInstanceOfSatisfying(ResponseStatusException.class, (ex) -> {
			assertThat(ex.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
			assertThat(ex.getReason()).contains(reason);
		});
	}

	@Test
	void linksKeepTheSearchOrderAndSizeAndEncodeEveryValue() {
		TargetTable.Page page = page(fleet(300), "t-0", "waiters", "2", "20");
		assertThat(page.refresh("t-0005")).isEqualTo("/fragments/live?target=t-0005&q=t-0&sort=waiters&page=2&size=20");
		assertThat(page.link("t-0005", 3)).isEqualTo("/?target=t-0005&q=t-0&sort=waiters&page=3&size=20");
		// a new order starts on the first page
		assertThat(page.link("t-0005", "name")).isEqualTo("/?target=t-0005&q=t-0&sort=name&size=20");
		// parameters at their defaults are left out
		TargetTable.Page plain = page(fleet(300), null, null, null, null);
		assertThat(plain.refresh("t-0001")).isEqualTo("/fragments/live?target=t-0001");
		assertThat(plain.link("t-0001", 2)).isEqualTo("/?target=t-0001&page=2");
		assertThat(plain.link("t-0001", "trouble")).isEqualTo("/?target=t-0001");
		// what a person types is data, never a parameter or fragment of its own
		TargetTable.Page hostile = page(fleet(3), "a&sort=name#x \"<b>'+%", null, null, null);
		assertThat(hostile.refresh("t-0001"))
			.isEqualTo("/fragments/live?target=t-0001&q=a%26sort%3Dname%23x+%22%3Cb%3E%27%2B%25");
		assertThat(hostile.q()).isEqualTo("a&sort=name#x \"<b>'+%");
	}

}

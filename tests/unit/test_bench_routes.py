"""Every route family in `make bench`: the statements named and counted (bench/statements.py),
the route table (bench/routes.py) and its section of the report (bench/report.py)."""

from __future__ import annotations

from bench import routes
from bench.report import (
    ROUTE_POSTS,
    parse_labelled,
    parse_statements,
    render,
    route_rows,
    routes_section,
)
from bench.statements import kind, round_trips, summary

# Lines as bench/routes.py prints them (from a trial run).
LIST_LINE = (
    "route courses list: RESULT rps=644.0 p50_ms=82.30 p90_ms=200.00 p99_ms=366.30 "
    "max_ms=400.00 requests=644 non2xx=0 sock_errors=0 cpu_us=356.2 statements=1 "
    "transactions=0 round_trips=1"
)
POSTS_LINE = (
    f"route {ROUTE_POSTS}: RESULT rps=300.0 p50_ms=100.00 p90_ms=150.00 p99_ms=250.00 "
    "max_ms=300.00 requests=300 non2xx=0 sock_errors=0 cpu_us=1200.0 statements=4 "
    "transactions=0 round_trips=4"
)
POSTS_KINDS = f"route {ROUTE_POSTS}: STATEMENTS select forums, select forum_posts x3"
DRF_POSTS = (
    f"route drf-wsgi {ROUTE_POSTS}: RESULT rps=200.0 p50_ms=277.60 p90_ms=400.00 "
    "p99_ms=516.10 max_ms=600.00 requests=200 non2xx=0 sock_errors=0 cpu_us=5073.0"
)
BARE_POSTS = (
    f"route bare {ROUTE_POSTS}: RESULT rps=1200.0 p50_ms=40.00 p90_ms=50.00 "
    "p99_ms=80.00 max_ms=90.00 requests=1200 non2xx=0 sock_errors=0 cpu_us=800.0"
)
LINES = [LIST_LINE, "route courses list: STATEMENTS select courses", POSTS_LINE, POSTS_KINDS]


def test_a_statement_is_named_by_its_verb_and_first_table() -> None:
    assert kind("SELECT acme.courses.id FROM acme.courses WHERE id = $1") == "select courses"
    assert kind("INSERT INTO main.forum_posts (content) VALUES (?)") == "insert forum_posts"
    assert kind('UPDATE "acme"."enrollments" SET progress = 1') == "update enrollments"
    assert kind("SAVEPOINT sa_savepoint_1") == "savepoint"


def test_a_summary_folds_repeated_statements_in_order() -> None:
    statements = [
        "SELECT * FROM forums",
        "SELECT * FROM forum_posts",
        "SELECT count(*) FROM forum_posts",
        "SELECT * FROM forums",
    ]

    assert summary(statements) == "select forums, select forum_posts x2, select forums"


def test_a_transaction_adds_two_round_trips_to_its_statements() -> None:
    assert round_trips(3, 1) == 5
    assert round_trips(2, 0) == 2


def test_statement_lines_are_read_by_label() -> None:
    assert parse_statements(LINES) == {
        "route courses list": "select courses",
        f"route {ROUTE_POSTS}": "select forums, select forum_posts x3",
    }


def test_route_rows_are_ours_in_the_order_they_ran_without_the_peers() -> None:
    ours = parse_labelled([LIST_LINE, POSTS_LINE, DRF_POSTS, BARE_POSTS])

    assert [label for label, _ in route_rows(ours)] == ["courses list", ROUTE_POSTS]


def test_a_route_within_three_round_trips_is_not_flagged() -> None:
    section = "\n".join(routes_section(parse_labelled(LINES), {}, LINES))

    assert "| **courses list** | 644 | 82.3 / 366.3 | 356 | 1.0 | 1.0 | - | - | 0 |  |" in section


def test_a_route_over_three_round_trips_is_flagged_with_its_statements() -> None:
    section = "\n".join(routes_section(parse_labelled(LINES), {}, LINES))

    assert (
        f"| **{ROUTE_POSTS}** | 300 | 100.0 / 250.0 | 1,200 | 4.0 | **4.0** | - | - | 0 "
        "| select forums, select forum_posts x3 |"
    ) in section


def test_the_posts_page_is_compared_with_the_peers_that_serve_it() -> None:
    lines = [*LINES, DRF_POSTS, BARE_POSTS]

    section = "\n".join(routes_section(parse_labelled(lines), {}, lines))

    assert f"| **{ROUTE_POSTS}** | 300 | 100.0 / 250.0 | 1,200 | 4.0 | **4.0** | 1.50x | 25% |" in (
        section
    )
    assert f"| drf-wsgi, {ROUTE_POSTS} | 200 | 277.6 / 516.1 | 5,073 | - | - | 1.00x | 17% |" in (
        section
    )
    assert f"| bare, {ROUTE_POSTS} | 1,200 | 40.0 / 80.0 | 800 | - | - | 6.00x | 100% |" in section


def test_course_create_is_compared_with_the_peers_create_from_their_run() -> None:
    create = (
        "route courses create: RESULT rps=250.0 p50_ms=200.00 p99_ms=900.00 requests=250 "
        "non2xx=0 cpu_us=3000.0 statements=3 transactions=1 round_trips=5"
    )
    peers = {"drf-wsgi": {"create": {"rps": 500.0, "p50_ms": 100.0, "p99_ms": 300.0}}}

    section = "\n".join(routes_section(parse_labelled([create]), peers, [create]))

    assert "| **courses create** | 250 | 200.0 / 900.0 | 3,000 | 3.0 | **5.0** | 0.50x | - |" in (
        section
    )
    assert "| drf-wsgi, courses create | 500 | 100.0 / 300.0 | - | - | - | 1.00x | - |" in section


def test_course_create_under_3x_drf_wsgi_is_not_met() -> None:
    create = (
        "route courses create: RESULT rps=1400.0 p50_ms=20.00 p99_ms=90.00 requests=1400 "
        "non2xx=0 cpu_us=700.0 statements=3 transactions=1 round_trips=5"
    )
    peers = {"drf-wsgi": {"create": {"rps": 500.0, "p50_ms": 100.0, "p99_ms": 300.0}}}

    section = "\n".join(routes_section(parse_labelled([create]), peers, [create]))

    assert "| course create: req/s >= 3x drf-wsgi | 1,400 | 1,500 | **not met** |" in section


def test_the_posts_page_targets_are_judged_against_both_peers_of_the_same_run() -> None:
    lines = [
        f"route {ROUTE_POSTS}: RESULT rps=1800.0 p50_ms=20.00 p99_ms=300.00 requests=9000 "
        "non2xx=0 cpu_us=500.0 statements=1 transactions=0 round_trips=1",
        f"route drf-wsgi {ROUTE_POSTS}: RESULT rps=200.0 p50_ms=300.00 p99_ms=400.00 "
        "requests=1000 non2xx=0 cpu_us=5000.0",
        f"route bare {ROUTE_POSTS}: RESULT rps=2000.0 p50_ms=30.00 p99_ms=100.00 "
        "requests=10000 non2xx=0 cpu_us=400.0",
    ]

    section = "\n".join(routes_section(parse_labelled(lines), {}, lines))

    assert "| posts page: req/s >= 3x drf-wsgi | 1,800 | 600 | met |" in section
    assert "| posts page: req/s >= 60% of bare | 1,800 | 1,200 | met |" in section
    assert "| posts page: p99 <= drf-wsgi's | 300.0 ms | 400.0 ms | met |" in section


def test_the_report_has_no_route_table_when_the_routes_did_not_run() -> None:
    text = render(title="t", command="c", notes=[], ours={}, peers={}, raw=[])

    assert "### Every route" not in text


def test_the_report_shows_the_route_table_after_detail_and_create() -> None:
    text = render(title="t", command="c", notes=[], ours=parse_labelled(LINES), peers={}, raw=LINES)

    assert text.index("### Course detail and create") < text.index("### Every route")


IDS = {
    name: n + 100
    for n, name in enumerate(
        [
            "course",
            "module",
            "lesson",
            "enrollment",
            "order",
            "forum",
            "quiet_forum",
            "post",
            "group",
            "quiet_group",
            "member",
            "message",
            "schedule",
            "session",
            "activity",
            "audit",
            "quiz_lesson",
            "quiz",
            "assignment",
        ]
    )
}


def test_every_domain_has_its_list_or_window_and_detail_in_the_route_table() -> None:
    table = routes.table(IDS)
    families = {route.family for route in table}

    # Conversations have no detail route; grades are a course's gradebook and a learner's own.
    for family in families - {"conversations", "grades"}:
        kinds = {route.kind for route in table if route.family == family}
        assert kinds & {"list", "window", ROUTE_POSTS.removeprefix("posts ")}, family
        assert "detail" in kinds, family


def test_the_route_table_reads_first_and_creates_last() -> None:
    kinds = [route.body is not None for route in routes.table(IDS)]

    assert kinds == sorted(kinds)
    assert sum(kinds) == 12  # one create per family that has one


def test_each_create_has_a_unique_token_in_its_body() -> None:
    creates = [route for route in routes.table(IDS) if route.body is not None]

    assert all("$n" in route.body for route in creates if route.body)


def test_a_read_is_loaded_with_the_shared_report_and_a_create_with_its_body() -> None:
    read = routes.wrk_command("http://h/x", "T", "5", None)
    create = routes.wrk_command("http://h/x", "T", "5", '{"a": "$n"}')

    assert read[:3] == ["taskset", "-c", "1"]
    assert read[-3:] == ["-s", str(routes.REPORT), "http://h/x"]
    assert create[-5:] == ["-s", str(routes.SCRIPT), "http://h/x", "--", '{"a": "$n"}']


def test_the_routes_own_section_lists_what_was_skipped_and_keeps_the_lines() -> None:
    skipped = "route forums list: skipped, no RESULT (no output)"

    text = routes.section([*LINES, skipped], {})

    assert f"- {skipped}" in text
    assert "| **courses list** | 644 |" in text
    assert text.endswith(f"{POSTS_KINDS}\n{skipped}\n```\n")

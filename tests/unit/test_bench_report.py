"""The `make bench` report: RESULT lines parsed, ratios, the performance targets' verdicts."""

from __future__ import annotations

from bench import report
from bench.report import (
    ANNOUNCE_CELERY,
    ANNOUNCE_EMBEDDED,
    CREATE,
    FANOUT,
    FANOUT_5K,
    FANOUT_5K_LEAN,
    FANOUT_LEAN,
    IDLE_SOCKETS,
    LAG_CELERY,
    LAG_EMBEDDED,
    LEAN_READER,
    LIST,
    PACED,
    PeerFigures,
    Result,
    announce_checks,
    at_least,
    at_most,
    best_channels,
    best_drf,
    fanout_checks,
    idle_checks,
    lag_checks,
    list_checks,
    parse_labelled,
    parse_result,
    parse_result_text,
    ratio,
    render,
)

# Lines as the shared tools and bench/paced.lua print them (from real runs).
WRK = (
    "RESULT rps=1007.0 p50_ms=40.41 p90_ms=177.64 p99_ms=388.71 max_ms=762.93 "
    "requests=10104 non2xx=0 sock_errors=0"
)
FANOUT_LINE = (
    "fan-out 1000 x 200 @ 50/s: RESULT delivered=200000 expected=200000 lost=0 dup=0 "
    "p50_ms=41.33 p90_ms=61.60 p99_ms=86.95 max_ms=159.09 connect_s=1.53 connected=1000 "
    "connect_failed=0 connect_errors=0 closed_early=0 pub_rate=49.99 pub_closed=0 "
    "fanout_wall_s=4.40 gen_cpu_pct=94.23 server_rss_mb=160.68 server_rss_base_mb=140.07 "
    "kb_per_conn=21.10 server_rss_end_mb=160.97 server_cpu_s=1.61 server_cpu_pct=36.57 "
    "srv_us_per_delivery=8.05"
)


def peers() -> PeerFigures:
    return {
        "drf-wsgi": {
            "list": {"rps": 431.0, "p99_ms": 223.0},
            "create": {"rps": 466.0},
            "paced": {"offered_rps": 345.0, "rps": 344.0, "p99_ms": 60.0},
        },
        "drf-core": {
            "list": {"rps": 240.0},
            "ws": {"srv_us_per_delivery": 283.0, "kb_per_conn": 49.1},
        },
        "drf-pubsub": {"list": {"rps": 263.0}, "ws": {"srv_us_per_delivery": 198.0}},
        "bare": {
            "list": {"rps": 13074.0},
            "list_db": {"rps": 3362.0},
            "create": {"rps": 7136.0},
            "ws": {"srv_us_per_delivery": 7.0, "kb_per_conn": 15.0},
        },
    }


def ours(list_rps: float, paced_p99: float, fanout_line: str = FANOUT_LINE) -> dict[str, Result]:
    figures = parse_labelled([f"{LIST}: {WRK}", fanout_line])
    figures[LIST]["rps"] = list_rps
    figures[PACED] = {"offered_rps": 345.0, "rps": 345.0, "p99_ms": paced_p99}
    return figures


def statuses(checks: list[report.Check]) -> list[str]:
    return [check.status for check in checks]


def test_a_real_result_line_parses_to_numbers() -> None:
    result = parse_result(FANOUT_LINE)

    assert result is not None
    assert result["delivered"] == 200000
    assert result["srv_us_per_delivery"] == 8.05
    assert result["kb_per_conn"] == 21.10
    assert parse_result(f"course list ?page=3: {WRK}") == parse_result(WRK)
    assert list(parse_labelled([FANOUT_LINE])) == [FANOUT]


def test_a_line_without_result_is_none_and_odd_fields_are_skipped() -> None:
    assert parse_result("fan-out pinned: skipped, taskset is needed") is None
    assert parse_result("RESULT rps=12.5 note=slow bare") == {"rps": 12.5}


def test_a_peer_file_keeps_its_last_result_and_the_lines_after_it() -> None:
    text = "# wrk GET ...\nRESULT rps=1.0\nnoise\nRESULT rps=2.0 lost=0\nstale_group_members=810\n"

    assert parse_result_text(text) == {"rps": 2.0, "lost": 0.0, "stale_group_members": 810.0}
    assert parse_result_text("setup failed\n") is None


def test_labelled_lines_by_label_skipping_the_skipped() -> None:
    figures = parse_labelled([f"{LIST}: {WRK}", "course list pinned: skipped, wrk is needed"])

    assert list(figures) == [LIST]
    assert figures[LIST]["requests"] == 10104


def test_ratio_math() -> None:
    assert ratio(2155.0, 431.0) == 5.0
    assert ratio(1000.0, None) is None
    assert ratio(None, 2.0) is None
    assert ratio(1.0, 0.0) is None


def test_bounds_judge_met_not_met_and_not_run() -> None:
    assert at_least(5.0, 5.0) == "met"
    assert at_least(4.9, 5.0) == "not met"
    assert at_most(100.0, 100.0) == "met"
    assert at_most(100.1, 100.0) == "not met"
    assert at_least(None, 1.0) == "not run"
    assert at_most(1.0, None) == "not run"


def test_the_best_drf_is_the_fastest_and_the_best_channels_the_cheapest() -> None:
    assert best_drf(peers()) == ("drf-wsgi", 431.0)
    assert best_drf(peers(), "create") == ("drf-wsgi", 466.0)
    assert best_channels(peers()) == ("drf-pubsub", 198.0)  # drf-wsgi serves no sockets
    assert best_drf({"bare": peers()["bare"]}) is None


def test_list_targets_met() -> None:
    checks = list_checks(ours(list_rps=2200.0, paced_p99=15.0), peers())

    assert statuses(checks) == ["met", "met", "met"]
    assert checks[0].bound == 5 * 431.0
    assert checks[1].bound == 0.6 * 3362.0
    assert checks[2].bound == 20.0  # a third of drf-wsgi's p99 at the same offered load
    assert "drf-wsgi" in checks[0].target


def test_list_targets_not_met() -> None:
    checks = list_checks(ours(list_rps=1007.0, paced_p99=25.0), peers())

    assert statuses(checks) == ["not met", "not met", "not met"]


def test_fanout_targets() -> None:
    met = fanout_checks(ours(1.0, 1.0), peers())
    lossy = FANOUT_LINE.replace("lost=0", "lost=3").replace("srv_us_per_delivery=8.05", "=")
    slow = fanout_checks(ours(1.0, 1.0, lossy.replace("p99_ms=86.95", "p99_ms=140")), peers())

    assert statuses(met) == ["met"] * 6 + ["not run"]  # nothing read on arrival
    assert statuses(slow)[:3] == ["not met", "met", "not met"]
    assert statuses(slow)[3:6] == ["not run"] * 3  # no CPU figure
    assert met[4].bound == 19.8  # ten times cheaper than drf-pubsub
    assert met[5].bound == 21.0  # three times bare


def test_the_1000_subscriber_p99_read_on_arrival_is_judged_beside_the_shared_tools() -> None:
    figures = ours(1.0, 1.0, FANOUT_LINE.replace("p99_ms=86.95", "p99_ms=218"))
    figures[FANOUT_LEAN] = {"p99_ms": 61.0}

    checks = fanout_checks(figures, peers())

    assert [statuses(checks)[2], statuses(checks)[-1]] == ["not met", "met"]
    assert checks[-1].target == f"p99 <= 100 ms, {LEAN_READER}"


def test_missing_peers_give_not_run_rather_than_a_crash() -> None:
    figures = ours(1007.0, 10.0)

    assert statuses(list_checks(figures, {})) == ["not run"] * 3
    assert statuses(fanout_checks(figures, {"drf-wsgi": {}})) == ["met"] * 4 + ["not run"] * 3
    assert statuses(list_checks({}, {})) == ["not run"] * 3


def test_the_section_has_tables_verdicts_and_the_raw_lines() -> None:
    figures = ours(1007.0, 25.0)
    figures[CREATE] = {"rps": 250.0, "p50_ms": 240.0, "p99_ms": 950.0}

    text = render(
        title="now",
        command="make bench",
        notes=["peer drf-core: no results"],
        ours=figures,
        peers=peers(),
        raw=[f"{LIST}: {WRK}", FANOUT_LINE],
    )

    assert "Command: `make bench`" in text
    assert "- peer drf-core: no results" in text
    assert "| **ours** | 1,007 | 40.4 / 388.7 | 2.34x | 30% | 0 |" in text
    assert "| req/s >= 5x best DRF (drf-wsgi) | 1,007 | 2,155 | **not met** |" in text
    assert "| **ours**, create | 250 | 240.0 / 950.0 | 0.54x | 4% | - |" in text
    assert "| p99 <= 250 ms, shared ws_fanout.py | - | 250.0 ms | not run |" in text
    assert text.split("```")[1].strip().splitlines() == [f"{LIST}: {WRK}", FANOUT_LINE]
    assert "| **ours** | 200,000 / 200,000 | 0 | 0 | 41.3 / 87.0 | 8.1 | 24.60x" in text
    assert "### Fan-out: 5,000 subscribers" in text and FANOUT_5K not in text


def test_bare_under_the_same_5000_subscriber_load_gets_its_own_row() -> None:
    figures = peers()
    figures["bare"]["ws5k"] = {"delivered": 200000.0, "expected": 200000.0, "p99_ms": 310.0}

    with_bare = render(title="t", command="c", notes=[], ours={}, peers=figures, raw=[])
    without = render(title="t", command="c", notes=[], ours={}, peers=peers(), raw=[])

    assert "5,000 subscribers, 40 posts at 2/s (bare aiohttp under the same load)" in with_bare
    assert "| bare, 5,000 subscribers | 200,000 / 200,000 | - | - | - / 310.0 |" in with_bare
    assert "bare, 5,000 subscribers" not in without


def test_the_5000_subscriber_p99_is_judged_under_each_load_tool() -> None:
    shared = "p99_ms=393.1 delivered=200000 expected=200000 lost=0 dup=0"
    lean = "p99_ms=140.5 delivered=200000 expected=200000 lost=0 dup=0"
    figures = parse_labelled([f"{FANOUT_5K}: RESULT {shared}", f"{FANOUT_5K_LEAN}: RESULT {lean}"])
    short = parse_labelled([f"{FANOUT_5K_LEAN}: RESULT {lean.replace('lost=0', 'lost=7')}"])

    assert statuses(report.fanout_5k_checks(figures)) == ["not met", "met", "met", "met"]
    assert statuses(report.fanout_5k_checks(short)) == ["not run", "met", "not met", "met"]


def test_both_reads_of_the_5000_subscriber_run_get_rows_beside_bare_read_the_same_ways() -> None:
    figures = peers()
    figures["bare"]["ws5k_lean"] = {"delivered": 200000.0, "expected": 200000.0, "p99_ms": 90.0}
    ours = {FANOUT_5K_LEAN: {"delivered": 200000.0, "expected": 200000.0, "p99_ms": 120.0}}

    text = render(title="t", command="c", notes=[], ours=ours, peers=figures, raw=[])

    assert f"| **ours**, {LEAN_READER} | 200,000 / 200,000 | - | - | - / 120.0 |" in text
    assert f"| bare, 5,000 subscribers, {LEAN_READER} | 200,000 / 200,000 |" in text
    assert f"| p99 <= 250 ms, {LEAN_READER} | 120.0 ms | 250.0 ms | met |" in text


# Lines as bench/idle_sockets.py, bench/loop_lag.py and bench/announce.py print them.
IDLE_LINE = (
    "idle sockets 10000: RESULT sockets=10000 connected=10000 failed=0 open=10000 "
    "kb_per_socket=17.40 kb_per_socket_marginal=15.10 marginal_from=2000 rss_base_mb=120.0 "
    "rss_partial_mb=160.2 rss_mb=290.0"
)
LAG_LINE = (
    "loop lag, embedded worker, 1000 writes @ 100/s: RESULT p99_ms=3.10 p50_ms=0.40 "
    "max_ms=9.80 samples=1300 period_s=13 idle_p99_ms=0.30 listeners=200 writes=1000 "
    "writes_ok=1000 write_errors=0 write_p99_ms=41.0"
)
ANNOUNCE_LINE = (
    "announce to 5000, embedded worker: RESULT users=5000 rounds=3 last_s_median=0.610 "
    "last_s_max=0.820 last_s_min=0.550 round1_s=0.820 round2_s=0.610 round3_s=0.550 missed=0"
)


def later_scenarios(idle: str = IDLE_LINE, lag: str = LAG_LINE) -> dict[str, Result]:
    celery_lag = lag.replace("embedded worker", "Celery producer").replace(
        "p99_ms=3.10", "p99_ms=5"
    )
    celery = ANNOUNCE_LINE.replace("embedded worker", "Celery and Redis")
    celery = celery.replace("last_s_max=0.820", "last_s_max=5.400")
    return parse_labelled([idle, lag, celery_lag, ANNOUNCE_LINE, celery])


def test_the_later_scenarios_lines_parse_under_the_report_labels() -> None:
    figures = later_scenarios()

    assert set(figures) == {
        IDLE_SOCKETS,
        LAG_EMBEDDED,
        LAG_CELERY,
        ANNOUNCE_EMBEDDED,
        ANNOUNCE_CELERY,
    }
    assert figures[IDLE_SOCKETS]["kb_per_socket"] == 17.4
    assert figures[LAG_EMBEDDED]["p99_ms"] == 3.1
    assert figures[LAG_EMBEDDED]["write_p99_ms"] == 41.0  # not the loop's p99
    assert figures[ANNOUNCE_EMBEDDED]["round3_s"] == 0.55


def test_idle_lag_and_announce_targets_met_and_not_met() -> None:
    figures = later_scenarios()

    assert statuses(idle_checks(figures)) == ["met"]
    # p99 < 5 ms is strict: exactly 5 ms through Celery misses.
    assert statuses(lag_checks(figures)) == ["met", "not met"]
    # The worst round is judged: 5.4 s through Celery misses though its median does not.
    assert statuses(announce_checks(figures)) == ["met", "not met"]
    assert idle_checks(figures)[0].bound == 20
    heavy = later_scenarios(idle=IDLE_LINE.replace("kb_per_socket=17.40", "kb_per_socket=20.5"))
    assert statuses(idle_checks(heavy)) == ["not met"]


def test_sockets_missing_or_announcements_missed_do_not_meet_the_target() -> None:
    short = later_scenarios(idle=IDLE_LINE.replace("connected=10000", "connected=9000"))
    missed = parse_labelled([ANNOUNCE_LINE.replace("missed=0", "missed=12")])

    assert statuses(idle_checks(short)) == ["not met"]
    assert "not all connected" in idle_checks(short)[0].target
    assert statuses(announce_checks(missed)) == ["not met", "not run"]


def test_skipped_or_missing_later_scenarios_are_not_run() -> None:
    lines = [
        "idle sockets: skipped, taskset is needed",
        LAG_LINE,
        "loop lag, Celery producer: not run: Redis at redis://127.0.0.1:6379/13 unreachable",
        "announce: skipped, it failed: AssertionError: 500",
        # a smaller run is not the target's size
        ANNOUNCE_LINE.replace("announce to 5000", "announce to 500"),
    ]
    figures = parse_labelled(lines)

    assert statuses(idle_checks(figures)) == ["not run"]
    assert statuses(lag_checks(figures)) == ["met", "not run"]
    assert statuses(announce_checks(figures)) == ["not run", "not run"]
    assert statuses(idle_checks({})) == ["not run"]


def test_the_section_has_the_later_scenarios_with_the_peers_memory_beside() -> None:
    figures = later_scenarios()
    del figures[ANNOUNCE_CELERY]

    text = render(title="t", command="c", notes=[], ours=figures, peers=peers(), raw=[])

    assert "### Idle sockets: 10,000 users" in text
    assert "| **ours** | 10,000 / 10,000 | 17.4 | 15.1 | 120 / 290 |" in text
    assert "| bare (this run's fan-out, for reference) | - | 15.0 | - | - |" in text
    assert "| drf-core (this run's fan-out, for reference) | - | 49.1 | - | - |" in text
    assert "drf-pubsub (this run" not in text  # no kb_per_conn in its figures
    assert "| embedded worker | 0.40 / 3.10 / 9.80 | 1,300 | 0.30 | 1,000 / 0 | 41.0 |" in text
    assert "| embedded worker | 0.82, 0.61, 0.55 | 0.61 / 0.82 | 0 |" in text
    assert "| Celery and Redis | - | - / - | - |" in text
    assert "| memory per idle socket at 10,000 sockets <= 20 KB | 17.4 KB | 20.0 KB | met |" in text
    assert (
        "| loop lag p99 < 5 ms over 1,000 writes, Celery | 5.00 ms | 5.00 ms | **not met** |"
        in text
    )
    assert (
        "| announcement to 5,000: last socket <= 5 s (worst round), Celery and Redis "
        "| - | 5.00 s | not run |"
    ) in text


# bench/recurrence_lag.py: loop lag while window listings expand heavy recurrence rules.
RECURRENCE_LINE = (
    "recurrence lag, 40 heavy + 10 stored rules: RESULT p99_ms=3.40 p50_ms=0.60 max_ms=8.10 "
    "samples=1100 period_s=12 idle_p99_ms=0.40 window_rps=2.10 window_p99_ms=2100.0 "
    "window_errors=0 light_rps=310.0 light_p99_ms=12.5 light_errors=0"
)


def test_the_recurrence_lag_line_parses_under_its_label() -> None:
    figures = parse_labelled([RECURRENCE_LINE])

    assert list(figures) == [report.RECURRENCE_LAG]
    assert figures[report.RECURRENCE_LAG]["p99_ms"] == 3.4
    assert figures[report.RECURRENCE_LAG]["window_p99_ms"] == 2100.0  # not the loop's p99


def test_the_recurrence_lag_target_is_p99_under_5_ms_strictly() -> None:
    met = parse_labelled([RECURRENCE_LINE])
    at_bound = parse_labelled([RECURRENCE_LINE.replace("p99_ms=3.40", "p99_ms=5.00")])
    skipped = parse_labelled(["recurrence lag: skipped, taskset is needed"])

    assert statuses(report.recurrence_checks(met)) == ["met"]
    assert statuses(report.recurrence_checks(at_bound)) == ["not met"]
    assert statuses(report.recurrence_checks(skipped)) == ["not run"]


def test_the_section_has_the_recurrence_lag_row_and_its_verdict() -> None:
    figures = parse_labelled([RECURRENCE_LINE])

    text = render(title="t", command="c", notes=[], ours=figures, peers={}, raw=[])
    empty = render(title="t", command="c", notes=[], ours={}, peers={}, raw=[])

    assert "| 0.60 / 3.40 / 8.10 | 1,100 | 0.40 | 2.10 | 2,100.0 | 310.0 | 12.5 | 0 / 0 |" in text
    assert (
        "| loop lag p99 < 5 ms while heavy rules are expanded | 3.40 ms | 5.00 ms | met |" in text
    )
    assert "| loop lag p99 < 5 ms while heavy rules are expanded | - | 5.00 ms | not run |" in empty


# The rate limiter's cost (bench/ratelimit_cost.py): a row without a target.

RATELIMIT_LINE = (
    "rate limiter cost per request: RESULT memory_us=4.21 redis_cpu_us=61.5 "
    "redis_wall_us=140.2 requests=20000 users=10000"
)


def test_the_rate_limiter_cost_is_a_row_of_its_own() -> None:
    figures = parse_labelled([RATELIMIT_LINE])

    text = render(title="t", command="c", notes=[], ours=figures, peers={}, raw=[])

    assert "| rate limiter cost per request (µs) | 4.21 | 61.5 | 140.2 |" in text


def test_a_rate_limiter_run_without_redis_leaves_its_columns_empty() -> None:
    line = "rate limiter cost per request: RESULT memory_us=3.90 requests=20000 users=10000"

    text = render(title="t", command="c", notes=[], ours=parse_labelled([line]), peers={}, raw=[])

    assert "| rate limiter cost per request (µs) | 3.90 | - | - |" in text


# What the hand-built socket frame saves (bench/wire_cost.py): a row without a target.

WIRE_COST_LINE = (
    "wire cost: RESULT framed_once_us=0.082 send_frame_us=0.400 saved_us=0.318 "
    "events=200 members=1000"
)


def test_the_wire_cost_is_a_row_of_its_own() -> None:
    text = render(
        title="t", command="c", notes=[], ours=parse_labelled([WIRE_COST_LINE]), peers={}, raw=[]
    )

    assert "| 0.082 | 0.400 | 0.318 |" in text

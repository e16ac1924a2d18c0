"""The `make bench` report's targets for the inbox fan-out and the bulk enrollment."""

from __future__ import annotations

from bench.report import (
    BULK_CELERY,
    BULK_EMBEDDED,
    INBOX_CELERY,
    INBOX_EMBEDDED,
    Check,
    Result,
    bulk_checks,
    inbox_checks,
    parse_labelled,
    render,
)

# Lines as bench/inbox_fanout.py and bench/bulk_enroll.py print them.
INBOX_LINE = (
    "inbox fan-out to 5000, embedded worker: RESULT users=5000 rounds=3 "
    "stored_s_median=0.900 stored_s_max=1.200 last_s_median=1.100 last_s_max=1.400 "
    "missed=0 lag_p99_ms=3.20 lag_max_ms=12.40 idle_p99_ms=0.30"
)
BULK_LINE = (
    "bulk enroll, embedded worker, 10000 rows: RESULT seconds_to_done=8.40 answer_s=0.60 "
    "rows_per_s=1190 status=done enrolled=10000 failed=0 lag_p99_ms=2.10 lag_max_ms=7.70 "
    "idle_p99_ms=0.20 (worst of 18 reports of 0.5 s; idle: the one before) meets the "
    "target of p99 < 5 ms"
)


def statuses(checks: list[Check]) -> list[str]:
    return [check.status for check in checks]


def both_modes(line: str, celery: str, celery_changes: dict[str, str]) -> list[str]:
    """The embedded worker's line, and the Celery mode's with some fields changed."""
    other = line.replace("embedded worker", celery)
    for old, new in celery_changes.items():
        other = other.replace(old, new)
    return [line, other]


def inbox(celery_changes: dict[str, str] | None = None) -> dict[str, Result]:
    return parse_labelled(both_modes(INBOX_LINE, "Celery and Redis", celery_changes or {}))


def bulk(celery_changes: dict[str, str] | None = None) -> dict[str, Result]:
    return parse_labelled(both_modes(BULK_LINE, "Celery worker", celery_changes or {}))


def test_the_inbox_and_bulk_lines_parse_under_the_report_labels() -> None:
    figures = {**inbox(), **bulk()}

    assert set(figures) == {INBOX_EMBEDDED, INBOX_CELERY, BULK_EMBEDDED, BULK_CELERY}
    assert figures[INBOX_EMBEDDED]["lag_p99_ms"] == 3.2
    assert figures[BULK_CELERY]["enrolled"] == 10000
    assert "status" not in figures[BULK_CELERY]  # a word, not a figure


def test_the_inbox_targets_are_met_in_both_modes() -> None:
    checks = inbox_checks(inbox())

    assert statuses(checks) == ["met"] * 8
    assert [check.bound for check in checks[:4]] == [5, 5, 0, 5]


def test_the_worst_inbox_round_a_missed_socket_and_a_5_ms_lag_do_not_meet_the_targets() -> None:
    figures = inbox(
        {
            "stored_s_max=1.200": "stored_s_max=5.300",
            "last_s_max=1.400": "last_s_max=5.100",
            "missed=0": "missed=4",
            "lag_p99_ms=3.20": "lag_p99_ms=5.00",
        }
    )

    checks = inbox_checks(figures)

    assert statuses(checks) == ["met"] * 4 + ["not met"] * 4
    assert "some sockets missed it" in checks[5].target


def test_a_missed_socket_fails_the_last_socket_target_though_its_time_is_within() -> None:
    figures = parse_labelled([INBOX_LINE.replace("missed=0", "missed=1")])

    last = inbox_checks(figures)[1]

    assert last.ours == 1.4
    assert last.status == "not met"


def test_missing_inbox_figures_are_not_run() -> None:
    lines = [
        "inbox fan-out to 5000, Celery and Redis: not run: Redis at redis://x unreachable",
        # an older line without the loop's lag
        INBOX_LINE.split(" lag_p99_ms=")[0],
    ]
    smaller = parse_labelled([INBOX_LINE.replace("to 5000", "to 200")])

    checks = inbox_checks(parse_labelled(lines))

    assert statuses(checks) == ["met", "met", "met", "not run"] + ["not run"] * 4
    assert statuses(inbox_checks(smaller)) == ["not run"] * 8
    assert (
        statuses(inbox_checks(parse_labelled(["inbox fan-out: skipped, it failed"])))
        == ["not run"] * 8
    )


def test_the_bulk_targets_are_met_in_both_modes() -> None:
    checks = bulk_checks(bulk())

    assert statuses(checks) == ["met"] * 6
    assert checks[0].bound == 10_000
    assert checks[1].ours == 8.4 and checks[1].bound is None


def test_rows_not_enrolled_or_a_5_ms_lag_do_not_meet_the_bulk_targets() -> None:
    figures = bulk(
        {
            "enrolled=10000": "enrolled=9990",
            "failed=0": "failed=10",
            "lag_p99_ms=2.10": "lag_p99_ms=5.00",
        }
    )

    assert statuses(bulk_checks(figures)) == ["met"] * 3 + ["not met", "met", "not met"]


def test_missing_bulk_figures_are_not_run() -> None:
    lines = [BULK_LINE, "bulk enroll, Celery worker: not run: Redis at redis://x unreachable"]
    smaller = parse_labelled([BULK_LINE.replace("10000 rows", "500 rows")])

    assert statuses(bulk_checks(parse_labelled(lines))) == ["met"] * 3 + ["not run"] * 3
    assert statuses(bulk_checks(smaller)) == ["not run"] * 6
    assert statuses(bulk_checks({})) == ["not run"] * 6


def test_the_section_has_the_inbox_and_bulk_rows_and_verdicts() -> None:
    figures = {**parse_labelled([INBOX_LINE]), **bulk({"lag_p99_ms=2.10": "lag_p99_ms=6.50"})}

    text = render(title="t", command="c", notes=[], ours=figures, peers={}, raw=[])

    assert "### Announcement through 5,000 users' inboxes" in text
    assert "| embedded worker | 0.90 / 1.20 | 1.10 / 1.40 | 0 | 3.20 / 12.40 | 0.30 |" in text
    assert "| Celery and Redis | - / - | - / - | - | - / - | - |" in text
    assert "| embedded worker | 8.40 | 0.60 | 1,190 | 10,000 / 0 | 2.10 / 7.70 | 0.20 |" in text
    assert (
        "| loop lag p99 < 5 ms during the inbox fan-out, Celery and Redis | - | 5.00 ms | not run |"
    ) in text
    assert (
        "| bulk enrollment of 10,000 rows: time to done reported, embedded worker "
        "| 8.40 s | - | met |"
    ) in text
    assert (
        "| loop lag p99 < 5 ms during a bulk enrollment of 10,000 rows, Celery worker "
        "| 6.50 ms | 5.00 ms | **not met** |"
    ) in text

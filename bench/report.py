"""The `make bench` report: RESULT lines parsed, ratios against the peers of the same run,
the performance targets (docs/benchmarks.md) judged (met, not met, or not run when a
figure is missing), and the markdown section for bench/results/<date>.md. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Result = dict[str, float]
"""One tool's RESULT line: its numeric fields by name."""
PeerFigures = dict[str, dict[str, Result]]
"""peer (drf-wsgi, bare, ...) -> phase (list, list_db, create, ws, wslow, paced) -> RESULT."""
Status = Literal["met", "not met", "not run"]

# Labels of our scenarios' lines ("<label>: RESULT ...").
LIST = "course list ?page=3"
LIST_BEGINNER = "course list ?page=3&level=Beginner"
DETAIL = "course detail"
CREATE = "course create"
FANOUT = "fan-out 1000 x 200 @ 50/s"
FANOUT_5K = "fan-out 5000 x 40 @ 2/s"
LEAN_READER = "read on arrival (bench/ws_lean.py)"
FANOUT_5K_LEAN = f"{FANOUT_5K}, {LEAN_READER}"
FANOUT_LEAN = f"{FANOUT}, {LEAN_READER}"
PACED = "paced course list ?page=3"
IDLE_SOCKETS = "idle sockets 10000"
LAG_EMBEDDED = "loop lag, embedded worker, 1000 writes @ 100/s"
LAG_CELERY = "loop lag, Celery producer, 1000 writes @ 100/s"
ANNOUNCE_EMBEDDED = "announce to 5000, embedded worker"
ANNOUNCE_CELERY = "announce to 5000, Celery and Redis"
RATELIMIT_COST = "rate limiter cost per request"
WIRE_COST = "wire cost"
INBOX_EMBEDDED = "inbox fan-out to 5000, embedded worker"
INBOX_CELERY = "inbox fan-out to 5000, Celery and Redis"
BULK_EMBEDDED = "bulk enroll, embedded worker, 10000 rows"
BULK_CELERY = "bulk enroll, Celery worker, 10000 rows"
BULK_ROWS = 10_000
LAG_MODES = (("embedded worker", LAG_EMBEDDED), ("Celery", LAG_CELERY))
ANNOUNCE_MODES = (("embedded worker", ANNOUNCE_EMBEDDED), ("Celery and Redis", ANNOUNCE_CELERY))
INBOX_MODES = (("embedded worker", INBOX_EMBEDDED), ("Celery and Redis", INBOX_CELERY))
BULK_MODES = (("embedded worker", BULK_EMBEDDED), ("Celery worker", BULK_CELERY))


def parse_result(line: str) -> Result | None:
    """The numeric fields of a line holding `RESULT k=v ...` (after any label), or None."""
    _, marker, fields = line.partition("RESULT ")
    if not marker:
        return None
    result: Result = {}
    for field in fields.split():
        key, equals, value = field.partition("=")
        if not equals:
            continue
        try:
            result[key] = float(value)
        except ValueError:
            continue
    return result


def parse_result_text(text: str) -> Result | None:
    """A tool's output file: its last RESULT line, plus lone `key=value` lines after it
    (run_peers.sh appends `stale_group_members=N`), as the shared summarize.py reads them."""
    result: Result | None = None
    extra: Result = {}
    for line in text.splitlines():
        if line.startswith("RESULT "):
            result = parse_result(line)
        elif line.count("=") == 1 and " " not in line.strip():
            key, _, value = line.strip().partition("=")
            try:
                extra[key] = float(value)
            except ValueError:
                continue
    if result is None:
        return None
    return {**result, **extra}


def parse_labelled(lines: Iterable[str]) -> dict[str, Result]:
    """`<label>: RESULT ...` lines by label; lines without a RESULT are left out."""
    figures: dict[str, Result] = {}
    for line in lines:
        label, separator, rest = line.partition(": RESULT ")
        if separator:
            figures[label.strip()] = parse_result("RESULT " + rest) or {}
    return figures


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def at_least(value: float | None, bound: float | None) -> Status:
    if value is None or bound is None:
        return "not run"
    return "met" if value >= bound else "not met"


def at_most(value: float | None, bound: float | None) -> Status:
    if value is None or bound is None:
        return "not run"
    return "met" if value <= bound else "not met"


def below(value: float | None, bound: float | None) -> Status:
    """Strictly under the bound (the loop-lag target's "p99 < 5 ms")."""
    if value is None or bound is None:
        return "not run"
    return "met" if value < bound else "not met"


def reported(value: float | None) -> Status:
    """A figure with no bound: met when the run reported it."""
    return "not run" if value is None else "met"


def field(result: Result | None, key: str) -> float | None:
    return None if result is None else result.get(key)


def is_drf(peer: str) -> bool:
    return peer.startswith("drf-")


def is_channels(peer: str) -> bool:
    """The DRF deployments that serve the sockets (all but the WSGI one)."""
    return is_drf(peer) and peer != "drf-wsgi"


def best_drf(peers: PeerFigures, phase: str = "list") -> tuple[str, float] | None:
    """The DRF deployment with the most requests a second in `phase`, and that figure."""
    found = [
        (peer, rps)
        for peer, phases in peers.items()
        if is_drf(peer) and (rps := field(phases.get(phase), "rps")) is not None
    ]
    return max(found, key=lambda item: item[1]) if found else None


def best_channels(peers: PeerFigures, phase: str = "ws") -> tuple[str, float] | None:
    """The Channels deployment with the least server CPU per delivery, and that figure."""
    found = [
        (peer, us)
        for peer, phases in peers.items()
        if is_channels(peer) and (us := field(phases.get(phase), "srv_us_per_delivery"))
    ]
    return min(found, key=lambda item: item[1]) if found else None


@dataclass(frozen=True)
class Check:
    """One performance target: what it asks, our figure, the bound it implies, verdict."""

    target: str
    ours: float | None
    bound: float | None
    status: Status
    unit: str = ""
    digits: int = 1


def list_checks(ours: dict[str, Result], peers: PeerFigures) -> list[Check]:
    rps = field(ours.get(LIST), "rps")
    drf = best_drf(peers)
    bare = field(peers.get("bare", {}).get("list_db"), "rps")
    drf_name, drf_rps = drf if drf else ("best DRF", None)
    five_x = None if drf_rps is None else 5 * drf_rps
    sixty = None if bare is None else 0.6 * bare
    paced = field(ours.get(PACED), "p99_ms")
    drf_paced = field(peers.get(drf_name, {}).get("paced"), "p99_ms")
    third = None if drf_paced is None else drf_paced / 3
    return [
        Check(f"req/s >= 5x best DRF ({drf_name})", rps, five_x, at_least(rps, five_x), digits=0),
        Check("req/s >= 60% of bare aiohttp + asyncpg", rps, sixty, at_least(rps, sixty), digits=0),
        Check(
            f"p99 at the same offered load <= 1/3 of {drf_name}'s",
            paced,
            third,
            at_most(paced, third),
            " ms",
        ),
    ]


def fanout_checks(ours: dict[str, Result], peers: PeerFigures) -> list[Check]:
    run = ours.get(FANOUT)
    us = field(run, "srv_us_per_delivery")
    channels = best_channels(peers)
    channels_name, channels_us = channels if channels else ("best Channels", None)
    tenth = None if channels_us is None else channels_us / 10
    bare = field(peers.get("bare", {}).get("ws"), "srv_us_per_delivery")
    thrice = None if bare is None else 3 * bare
    p99 = field(run, "p99_ms")
    lean = field(ours.get(FANOUT_LEAN), "p99_ms")
    return [
        Check("lost = 0", field(run, "lost"), 0, at_most(field(run, "lost"), 0), digits=0),
        Check("dup = 0", field(run, "dup"), 0, at_most(field(run, "dup"), 0), digits=0),
        Check("p99 <= 100 ms", p99, 100, at_most(p99, 100), " ms"),
        Check("server CPU <= 20 us per delivery", us, 20, at_most(us, 20), " us"),
        Check(f">= 10x cheaper than {channels_name}", us, tenth, at_most(us, tenth), " us"),
        Check("within 3x of bare aiohttp", us, thrice, at_most(us, thrice), " us"),
        Check(f"p99 <= 100 ms, {LEAN_READER}", lean, 100, at_most(lean, 100), " ms"),
    ]


def fanout_5k_checks(ours: dict[str, Result]) -> list[Check]:
    """The p99 bound under each load tool; the lean one also owes every delivery."""
    shared = field(ours.get(FANOUT_5K), "p99_ms")
    lean = ours.get(FANOUT_5K_LEAN)
    lean_p99, lost, dup = field(lean, "p99_ms"), field(lean, "lost"), field(lean, "dup")
    return [
        Check("p99 <= 250 ms, shared ws_fanout.py", shared, 250, at_most(shared, 250), " ms"),
        Check(f"p99 <= 250 ms, {LEAN_READER}", lean_p99, 250, at_most(lean_p99, 250), " ms"),
        Check(f"lost = 0, {LEAN_READER}", lost, 0, at_most(lost, 0), digits=0),
        Check(f"dup = 0, {LEAN_READER}", dup, 0, at_most(dup, 0), digits=0),
    ]


def unless_short(status: Status, short: bool) -> Status:
    """A figure measured with sockets missing (or announcements not received) misses."""
    return "not met" if short and status != "not run" else status


def idle_checks(ours: dict[str, Result]) -> list[Check]:
    run = ours.get(IDLE_SOCKETS)
    kb = field(run, "kb_per_socket")
    connected, sockets = field(run, "connected"), field(run, "sockets")
    short = connected is not None and sockets is not None and connected < sockets
    status = unless_short(at_most(kb, 20), short)
    target = "memory per idle socket at 10,000 sockets <= 20 KB"
    return [Check(target + (" (not all connected)" if short else ""), kb, 20, status, " KB")]


def lag_checks(ours: dict[str, Result]) -> list[Check]:
    checks = []
    for mode, label in LAG_MODES:
        p99 = field(ours.get(label), "p99_ms")
        target = f"loop lag p99 < 5 ms over 1,000 writes, {mode}"
        checks.append(Check(target, p99, 5, below(p99, 5), " ms", 2))
    return checks


def announce_checks(ours: dict[str, Result]) -> list[Check]:
    checks = []
    for mode, label in ANNOUNCE_MODES:
        run = ours.get(label)
        worst = field(run, "last_s_max")
        short = (field(run, "missed") or 0) > 0
        target = f"announcement to 5,000: last socket <= 5 s (worst round), {mode}"
        target += " (some sockets missed it)" if short else ""
        status = unless_short(at_most(worst, 5), short)
        checks.append(Check(target, worst, 5, status, " s", 2))
    return checks


def inbox_checks(ours: dict[str, Result]) -> list[Check]:
    """Per mode: every row stored and the last socket served within 5 s in the worst
    round, every socket served, the loop's lag p99 under 5 ms meanwhile."""
    checks = []
    for mode, label in INBOX_MODES:
        run = ours.get(label)
        stored, last = field(run, "stored_s_max"), field(run, "last_s_max")
        missed, lag = field(run, "missed"), field(run, "lag_p99_ms")
        short = (missed or 0) > 0
        last_target = f"inbox fan-out to 5,000: last socket <= 5 s (worst round), {mode}"
        last_target += " (some sockets missed it)" if short else ""
        checks += [
            Check(
                f"inbox fan-out to 5,000: every row stored <= 5 s (worst round), {mode}",
                stored,
                5,
                at_most(stored, 5),
                " s",
                2,
            ),
            Check(last_target, last, 5, unless_short(at_most(last, 5), short), " s", 2),
            Check(
                f"inbox fan-out to 5,000: every socket received it, {mode} (missed)",
                missed,
                0,
                at_most(missed, 0),
                digits=0,
            ),
            Check(
                f"loop lag p99 < 5 ms during the inbox fan-out, {mode}",
                lag,
                5,
                below(lag, 5),
                " ms",
                2,
            ),
        ]
    return checks


def bulk_checks(ours: dict[str, Result]) -> list[Check]:
    """Per mode: all 10,000 rows enrolled, the time to done reported, the loop's lag p99
    under 5 ms meanwhile."""
    checks = []
    for mode, label in BULK_MODES:
        run = ours.get(label)
        enrolled, to_done = field(run, "enrolled"), field(run, "seconds_to_done")
        lag = field(run, "lag_p99_ms")
        checks += [
            Check(
                f"bulk enrollment of 10,000 rows: all enrolled, {mode}",
                enrolled,
                BULK_ROWS,
                at_least(enrolled, BULK_ROWS),
                digits=0,
            ),
            Check(
                f"bulk enrollment of 10,000 rows: time to done reported, {mode}",
                to_done,
                None,
                reported(to_done),
                " s",
                2,
            ),
            Check(
                f"loop lag p99 < 5 ms during a bulk enrollment of 10,000 rows, {mode}",
                lag,
                5,
                below(lag, 5),
                " ms",
                2,
            ),
        ]
    return checks


def inbox_bulk_section(ours: dict[str, Result]) -> list[str]:
    """The inbox fan-out (bench/inbox_fanout.py) and the bulk enrollment
    (bench/bulk_enroll.py): their figures per mode, the loop's lag beside them."""
    rows = [
        "### Announcement through 5,000 users' inboxes: until every row is stored, until "
        "the last of their own sockets has it",
        "",
        "| mode | stored median / worst s | last socket median / worst s | missed "
        "| loop lag p99 / max ms | idle p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, label in INBOX_MODES:
        run = ours.get(label)
        rows.append(
            f"| {mode} | {number(field(run, 'stored_s_median'), 2)} / "
            f"{number(field(run, 'stored_s_max'), 2)} | "
            f"{number(field(run, 'last_s_median'), 2)} / {number(field(run, 'last_s_max'), 2)} "
            f"| {number(field(run, 'missed'))} | {number(field(run, 'lag_p99_ms'), 2)} / "
            f"{number(field(run, 'lag_max_ms'), 2)} | {number(field(run, 'idle_p99_ms'), 2)} |"
        )
    rows += [
        "",
        "### Bulk enrollment of 10,000 CSV rows as a job: until it is done, the loop's lag "
        "meanwhile",
        "",
        "| mode | seconds to done | upload answer s | rows/s | enrolled / failed "
        "| loop lag p99 / max ms | idle p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, label in BULK_MODES:
        run = ours.get(label)
        rows.append(
            f"| {mode} | {number(field(run, 'seconds_to_done'), 2)} | "
            f"{number(field(run, 'answer_s'), 2)} | {number(field(run, 'rows_per_s'))} | "
            f"{number(field(run, 'enrolled'))} / {number(field(run, 'failed'))} | "
            f"{number(field(run, 'lag_p99_ms'), 2)} / {number(field(run, 'lag_max_ms'), 2)} | "
            f"{number(field(run, 'idle_p99_ms'), 2)} |"
        )
    return [*rows, "", *check_table([*inbox_checks(ours), *bulk_checks(ours)]), ""]


# Event-loop lag while window listings expand heavy recurrence rules (bench/recurrence_lag.py).
RECURRENCE_LAG = "recurrence lag, 40 heavy + 10 stored rules"


def recurrence_checks(ours: dict[str, Result]) -> list[Check]:
    p99 = field(ours.get(RECURRENCE_LAG), "p99_ms")
    target = "loop lag p99 < 5 ms while heavy rules are expanded"
    return [Check(target, p99, 5, below(p99, 5), " ms", 2)]


def recurrence_section(ours: dict[str, Result]) -> list[str]:
    run = ours.get(RECURRENCE_LAG)
    rows = [
        "### Event-loop lag while year windows expand 40 heavy and 10 stored recurrence rules",
        "",
        "| p50 / p99 / max ms | samples | idle p99 ms | window GET req/s | window GET p99 ms "
        "| light GET req/s | light GET p99 ms | errors (window / light) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {number(field(run, 'p50_ms'), 2)} / {number(field(run, 'p99_ms'), 2)} / "
        f"{number(field(run, 'max_ms'), 2)} | {number(field(run, 'samples'))} | "
        f"{number(field(run, 'idle_p99_ms'), 2)} | {number(field(run, 'window_rps'), 2)} | "
        f"{number(field(run, 'window_p99_ms'), 1)} | {number(field(run, 'light_rps'), 1)} | "
        f"{number(field(run, 'light_p99_ms'), 1)} | {number(field(run, 'window_errors'))} / "
        f"{number(field(run, 'light_errors'))} |",
    ]
    return [*rows, "", *check_table(recurrence_checks(ours)), ""]


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def check_table(checks: list[Check]) -> list[str]:
    rows = ["| target | ours | bound | verdict |", "| --- | ---: | ---: | --- |"]
    for check in checks:
        ours = number(check.ours, check.digits) + (check.unit if check.ours is not None else "")
        bound = number(check.bound, check.digits)
        bound += check.unit if check.bound is not None else ""
        verdict = f"**{check.status}**" if check.status == "not met" else check.status
        rows.append(f"| {check.target} | {ours} | {bound} | {verdict} |")
    return rows


def http_rows(label: str, result: Result | None, drf: float | None, bare: float | None) -> str:
    rps = field(result, "rps")
    return (
        f"| {label} | {number(rps)} | {number(field(result, 'p50_ms'), 1)} / "
        f"{number(field(result, 'p99_ms'), 1)} | {times(ratio(rps, drf))} | "
        f"{percent(ratio(rps, bare))} | {number(field(result, 'non2xx'))} |"
    )


HTTP_HEADER = [
    "| server | req/s | p50 / p99 ms | x best DRF | % of bare | non-2xx |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
]


def list_section(ours: dict[str, Result], peers: PeerFigures) -> list[str]:
    drf = best_drf(peers)
    drf_rps = drf[1] if drf else None
    bare = field(peers.get("bare", {}).get("list_db"), "rps")
    rows = ["### Course list ?page=3 (wrk, 64 connections, closed loop)", "", *HTTP_HEADER]
    rows.append(http_rows("**ours**", ours.get(LIST), drf_rps, bare))
    if LIST_BEGINNER in ours:
        rows.append(http_rows("ours, &level=Beginner", ours[LIST_BEGINNER], drf_rps, bare))
    for peer, phases in peers.items():
        if "list" in phases:
            name = f"{peer} (in-memory, no DB)" if peer == "bare" else peer
            rows.append(http_rows(name, phases["list"], drf_rps, bare))
        if "list_db" in phases:
            rows.append(http_rows(f"{peer} /db (asyncpg)", phases["list_db"], drf_rps, bare))
    rows += ["", "At the same offered load (bench/paced.lua, 64 connections, fixed rate):", ""]
    rows += [
        "| server | offered req/s | served req/s | p50 / p99 ms | late |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    paced = [("**ours**", ours.get(PACED))]
    paced += [(peer, phases["paced"]) for peer, phases in peers.items() if "paced" in phases]
    for label, result in paced:
        rows.append(
            f"| {label} | {number(field(result, 'offered_rps'))} | "
            f"{number(field(result, 'rps'))} | {number(field(result, 'p50_ms'), 1)} / "
            f"{number(field(result, 'p99_ms'), 1)} | {number(field(result, 'late'))} |"
        )
    return [*rows, "", *check_table(list_checks(ours, peers)), ""]


def detail_create_section(ours: dict[str, Result], peers: PeerFigures) -> list[str]:
    drf = best_drf(peers, "create")
    drf_rps = drf[1] if drf else None
    bare = field(peers.get("bare", {}).get("create"), "rps")
    rows = ["### Course detail and create (wrk, 64 connections; no target)", "", *HTTP_HEADER]
    rows.append(http_rows("**ours**, detail", ours.get(DETAIL), None, None))
    rows.append(http_rows("**ours**, create", ours.get(CREATE), drf_rps, bare))
    for peer, phases in peers.items():
        if "create" in phases:
            name = f"{peer} /db, create" if peer == "bare" else f"{peer}, create"
            rows.append(http_rows(name, phases["create"], drf_rps, bare))
    return [*rows, ""]


def ws_row(label: str, result: Result | None, channels: float | None, bare: float | None) -> str:
    us = field(result, "srv_us_per_delivery")
    delivered = f"{number(field(result, 'delivered'))} / {number(field(result, 'expected'))}"
    return (
        f"| {label} | {delivered} | {number(field(result, 'lost'))} | "
        f"{number(field(result, 'dup'))} | {number(field(result, 'p50_ms'), 1)} / "
        f"{number(field(result, 'p99_ms'), 1)} | {number(us, 1)} | "
        f"{times(ratio(channels, us))} | {times(ratio(us, bare))} | "
        f"{number(field(result, 'kb_per_conn'), 1)} | {number(field(result, 'gen_cpu_pct'))} |"
    )


WS_HEADER = [
    "| server | delivered / expected | lost | dup | p50 / p99 ms | server us per delivery "
    "| x cheaper than best Channels | x bare's cost | KB per socket | generator CPU % |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
]


def fanout_section(ours: dict[str, Result], peers: PeerFigures) -> list[str]:
    channels = best_channels(peers)
    channels_us = channels[1] if channels else None
    bare = field(peers.get("bare", {}).get("ws"), "srv_us_per_delivery")
    rows = ["### Fan-out: one room, 1,000 subscribers, 200 posts at 50/s", "", *WS_HEADER]
    rows.append(ws_row("**ours**", ours.get(FANOUT), channels_us, bare))
    for peer, phases in peers.items():
        if "ws" in phases:
            rows.append(ws_row(peer, phases["ws"], channels_us, bare))
    if FANOUT_LEAN in ours:
        rows.append(ws_row(f"**ours**, {LEAN_READER}", ours[FANOUT_LEAN], channels_us, bare))
    bare_lean = peers.get("bare", {}).get("ws_lean")
    if bare_lean is not None:
        rows.append(ws_row(f"bare, {LEAN_READER}", bare_lean, channels_us, bare))
    rows += ["", *check_table(fanout_checks(ours, peers)), ""]
    # The peers ran their low rate with 1,000 subscribers: costs compare with those.
    channels_low = best_channels(peers, "wslow")
    channels_us = channels_low[1] if channels_low else None
    bare = field(peers.get("bare", {}).get("wslow"), "srv_us_per_delivery")
    bare_5k = peers.get("bare", {}).get("ws5k")
    title = "bare aiohttp under the same load" if bare_5k else "ours only"
    rows += [f"### Fan-out: 5,000 subscribers, 40 posts at 2/s ({title})", "", *WS_HEADER]
    rows.append(ws_row("**ours**", ours.get(FANOUT_5K), channels_us, bare))
    if bare_5k is not None:
        rows.append(ws_row("bare, 5,000 subscribers", bare_5k, channels_us, bare))
    if FANOUT_5K_LEAN in ours:
        rows.append(ws_row(f"**ours**, {LEAN_READER}", ours[FANOUT_5K_LEAN], channels_us, bare))
    bare_lean = peers.get("bare", {}).get("ws5k_lean")
    if bare_lean is not None:
        rows.append(ws_row(f"bare, 5,000 subscribers, {LEAN_READER}", bare_lean, channels_us, bare))
    low = [(peer, phases["wslow"]) for peer, phases in peers.items() if "wslow" in phases]
    if low:
        rows.append("| *the peers' low run: 1,000 subscribers, 40 posts at 2/s* |" + " |" * 9)
        rows += [ws_row(peer, result, channels_us, bare) for peer, result in low]
    return [*rows, "", *check_table(fanout_5k_checks(ours)), ""]


def idle_lag_announce_section(ours: dict[str, Result], peers: PeerFigures) -> list[str]:
    rows = ["### Idle sockets: 10,000 users on a course's notifications socket, silent", ""]
    rows += [
        "| server | sockets connected / open | KB per socket | KB per socket added after "
        "the first fifth | RSS before / after MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    idle = ours.get(IDLE_SOCKETS)
    rows.append(
        f"| **ours** | {number(field(idle, 'connected'))} / {number(field(idle, 'open'))} | "
        f"{number(field(idle, 'kb_per_socket'), 1)} | "
        f"{number(field(idle, 'kb_per_socket_marginal'), 1)} | "
        f"{number(field(idle, 'rss_base_mb'))} / {number(field(idle, 'rss_mb'))} |"
    )
    for peer, phases in peers.items():
        kb = field(phases.get("ws"), "kb_per_conn")
        if kb is not None:
            sockets = number(field(phases["ws"], "connected"))
            rows.append(
                f"| {peer} (this run's fan-out, for reference) | {sockets} | {kb:.1f} | - | - |"
            )
    rows += ["", "Recorded for the peers: bare aiohttp ~15 KB per socket, Channels 44-52 KB.", ""]
    rows += [
        "### Event-loop lag while 1,000 writes (100/s) hand records and notifications on",
        "",
        "| mode | p50 / p99 / max ms | samples | idle p99 ms | writes ok / errors | write p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, label in LAG_MODES:
        lag = ours.get(label)
        rows.append(
            f"| {mode} | {number(field(lag, 'p50_ms'), 2)} / {number(field(lag, 'p99_ms'), 2)} "
            f"/ {number(field(lag, 'max_ms'), 2)} | {number(field(lag, 'samples'))} | "
            f"{number(field(lag, 'idle_p99_ms'), 2)} | {number(field(lag, 'writes_ok'))} / "
            f"{number(field(lag, 'write_errors'))} | {number(field(lag, 'write_p99_ms'), 1)} |"
        )
    rows += [
        "",
        "### Announcement to 5,000 enrolled users: POST until the last socket has it",
        "",
        "| mode | rounds s | median / worst s | missed |",
        "| --- | ---: | ---: | ---: |",
    ]
    for mode, label in ANNOUNCE_MODES:
        run = ours.get(label)
        count = int(field(run, "rounds") or 0)
        rounds = ", ".join(number(field(run, f"round{n + 1}_s"), 2) for n in range(count))
        rows.append(
            f"| {mode} | {rounds or '-'} | {number(field(run, 'last_s_median'), 2)} / "
            f"{number(field(run, 'last_s_max'), 2)} | {number(field(run, 'missed'))} |"
        )
    checks = [*idle_checks(ours), *lag_checks(ours), *announce_checks(ours)]
    return [*rows, "", *check_table(checks), ""]


def ratelimit_section(ours: dict[str, Result]) -> list[str]:
    """The rate limiter's own cost (bench/ratelimit_cost.py); no target."""
    run = ours.get(RATELIMIT_COST)
    return [
        "### Rate limiter (in process; every other scenario runs with LMS_RATE_LIMITS=off)",
        "",
        "| figure | memory buckets | Redis buckets, CPU | Redis buckets, wall |",
        "| --- | ---: | ---: | ---: |",
        f"| rate limiter cost per request (µs) | {number(field(run, 'memory_us'), 2)} | "
        f"{number(field(run, 'redis_cpu_us'), 1)} | {number(field(run, 'redis_wall_us'), 1)} |",
        "",
    ]


def wire_cost_section(ours: dict[str, Result]) -> list[str]:
    """What the hand-built socket frame buys per delivery (bench/wire_cost.py); no target."""
    run = ours.get(WIRE_COST)
    return [
        "### Socket frames, Python per delivery (in process)",
        "",
        "| framed once, written to each transport (µs) | `await ws.send_frame` each (µs) "
        "| saved (µs) |",
        "| ---: | ---: | ---: |",
        f"| {number(field(run, 'framed_once_us'), 3)} | {number(field(run, 'send_frame_us'), 3)} | "
        f"{number(field(run, 'saved_us'), 3)} |",
        "",
    ]


def render(
    *,
    title: str,
    command: str,
    notes: list[str],
    ours: dict[str, Result],
    peers: PeerFigures,
    raw: list[str],
) -> str:
    """The markdown section `make bench` appends to bench/results/<date>.md."""
    lines = [f"## {title}", "", f"Command: `{command}`", ""]
    lines += [f"- {note}" for note in notes]
    lines += [""] if notes else []
    lines += list_section(ours, peers)
    lines += detail_create_section(ours, peers)
    lines += routes_section(ours, peers, raw)
    lines += fanout_section(ours, peers)
    lines += idle_lag_announce_section(ours, peers)
    lines += inbox_bulk_section(ours)
    lines += recurrence_section(ours)
    lines += ratelimit_section(ours)
    lines += wire_cost_section(ours)
    lines += ["Raw RESULT lines:", "", "```", *raw, "```", ""]
    return "\n".join(lines)


# Every route family (bench/routes.py): `route <family> <kind>: RESULT ...` lines, and the
# statements one request ran, `route <family> <kind>: STATEMENTS <kinds>`.
ROUTE = "route "
ROUTE_POSTS = "posts page 3 of 200"
ROUTE_CREATE = "courses create"
# Beyond this many round trips a request is flagged, its statements named.
ROUND_TRIP_BUDGET = 3
ROUTE_PEERS = ("drf-wsgi", "bare")


def parse_statements(lines: Iterable[str]) -> dict[str, str]:
    """`<label>: STATEMENTS <kinds>` lines: the kinds by label."""
    found: dict[str, str] = {}
    for line in lines:
        label, separator, kinds = line.partition(": STATEMENTS ")
        if separator:
            found[label.strip()] = kinds.strip()
    return found


def route_rows(ours: dict[str, Result]) -> list[tuple[str, Result]]:
    """Our route lines, in the order they ran (the peers' lines left out)."""
    peer_labels = {f"{ROUTE}{peer} {ROUTE_POSTS}" for peer in ROUTE_PEERS}
    return [
        (label.removeprefix(ROUTE), result)
        for label, result in ours.items()
        if label.startswith(ROUTE) and label not in peer_labels
    ]


def over_budget(result: Result | None) -> bool:
    trips = field(result, "round_trips")
    return trips is not None and trips > ROUND_TRIP_BUDGET


def route_row(
    label: str, result: Result | None, drf: float | None, bare: float | None, why: str = ""
) -> str:
    rps = field(result, "rps")
    trips = number(field(result, "round_trips"), 1)
    flagged = f"**{trips}**" if over_budget(result) else trips
    return (
        f"| {label} | {number(rps)} | {number(field(result, 'p50_ms'), 1)} / "
        f"{number(field(result, 'p99_ms'), 1)} | {number(field(result, 'cpu_us'))} | "
        f"{number(field(result, 'statements'), 1)} | {flagged} | {times(ratio(rps, drf))} | "
        f"{percent(ratio(rps, bare))} | {number(field(result, 'non2xx'))} | {why} |"
    )


def scaled(result: Result | None, key: str, factor: float) -> float | None:
    value = field(result, key)
    return None if value is None else factor * value


def route_checks(
    posts: dict[str, Result | None], create: Result | None, creates: dict[str, Result | None]
) -> list[Check]:
    """The lean path's targets: the posts page >= 3x drf-wsgi and >= 60% of bare with a
    p99 no worse than drf-wsgi's; course create >= 3x drf-wsgi's create."""
    ours, drf, bare = posts.get("ours"), posts.get("drf-wsgi"), posts.get("bare")
    rps, p99, drf_p99 = field(ours, "rps"), field(ours, "p99_ms"), field(drf, "p99_ms")
    thrice, sixty = scaled(drf, "rps", 3), scaled(bare, "rps", 0.6)
    create_rps, create_thrice = field(create, "rps"), scaled(creates.get("drf-wsgi"), "rps", 3)
    return [
        Check("posts page: req/s >= 3x drf-wsgi", rps, thrice, at_least(rps, thrice), digits=0),
        Check("posts page: req/s >= 60% of bare", rps, sixty, at_least(rps, sixty), digits=0),
        Check("posts page: p99 <= drf-wsgi's", p99, drf_p99, at_most(p99, drf_p99), " ms"),
        Check(
            "course create: req/s >= 3x drf-wsgi",
            create_rps,
            create_thrice,
            at_least(create_rps, create_thrice),
            digits=0,
        ),
    ]


def routes_section(ours: dict[str, Result], peers: PeerFigures, raw: list[str]) -> list[str]:
    """One row per route, the peers under the routes they serve (the posts page from
    bench/routes.py, course create from run_peers.sh); a route over the round-trip budget
    names its statements."""
    rows = route_rows(ours)
    if not rows:
        return []
    kinds = parse_statements(raw)
    posts = {peer: ours.get(f"{ROUTE}{peer} {ROUTE_POSTS}") for peer in ROUTE_PEERS}
    creates = {peer: peers.get(peer, {}).get("create") for peer in ROUTE_PEERS}
    lines = [
        f"### Every route (wrk, 64 connections, closed loop; round trips > "
        f"{ROUND_TRIP_BUDGET} in bold, with the statements one request ran)",
        "",
        "| route | req/s | p50 / p99 ms | server CPU us/req | statements | round trips "
        "| x drf-wsgi | % of bare | non-2xx | why (statements of one request) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, result in rows:
        peer_figures = {ROUTE_POSTS: posts, ROUTE_CREATE: creates}.get(label, {})
        drf, bare = (field(peer_figures.get(peer), "rps") for peer in ROUTE_PEERS)
        why = kinds.get(ROUTE + label, "") if over_budget(result) else ""
        lines.append(route_row(f"**{label}**", result, drf, bare, why))
        for peer in ROUTE_PEERS:
            if peer_figures.get(peer) is not None:
                lines.append(route_row(f"{peer}, {label}", peer_figures[peer], drf, bare))
    posts_page = {"ours": ours.get(ROUTE + ROUTE_POSTS), **posts}
    checks = route_checks(posts_page, ours.get(ROUTE + ROUTE_CREATE), creates)
    return [*lines, "", *check_table(checks), ""]

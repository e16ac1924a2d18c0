// My schedule, a week (Monday to Sunday, in the browser's time zone) at a time: one item per
// occurrence from the API's window query; accept or decline where I am invited. The week
// shown lives in the address (`?week=YYYY-MM-DD`, its Monday).
import { $, api, el, fail, me, onNotification, onNotificationsReset, requireSignIn, withQuery } from "./app.js";

const SCHEDULES = "/api/lms/schedule/schedules/";
const PARTICIPANTS = "/api/lms/schedule/participants/";
const PAGE_SIZE = 100;
const MAX_PAGES = 10;
const DAY_MS = 24 * 60 * 60 * 1000;

function pad(n) {
  return String(n).padStart(2, "0");
}

function isoDay(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function mondayOf(date) {
  const day = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  day.setDate(day.getDate() - ((day.getDay() + 6) % 7));
  return day;
}

function addDays(date, n) {
  const next = new Date(date);
  next.setDate(next.getDate() + n);
  return next;
}

function weekShown() {
  const raw = new URL(window.location.href).searchParams.get("week") || "";
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  const date = match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : new Date();
  return mondayOf(Number.isNaN(date.getTime()) ? new Date() : date);
}

function go(monday) {
  const thisWeek = isoDay(mondayOf(new Date()));
  const week = isoDay(monday);
  history.pushState(null, "", week === thisWeek ? window.location.pathname : `?week=${week}`);
  load();
}

const dayName = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "short" });
const timeOf = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateOf = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

async function occurrences(start, end) {
  const all = [];
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const body = await api(
      withQuery(SCHEDULES, { start: start.toISOString(), end: end.toISOString(), page, page_size: PAGE_SIZE }),
    );
    all.push(...body.results);
    if (!body.next) break;
  }
  return all;
}

/** My invitation to a schedule: my own row, else a group's (answering it answers for me). */
async function invitation(scheduleId) {
  const body = await api(withQuery(PARTICIPANTS, { schedule: scheduleId, page_size: PAGE_SIZE }));
  const mine = body.results.find((p) => p.user_id === me());
  return mine || body.results.find((p) => p.group !== null && p.group !== undefined) || null;
}

async function respond(occurrence, answer) {
  try {
    const participant = await invitation(occurrence.id);
    if (!participant) {
      $("week-status").textContent = "You are not invited to this schedule.";
      return;
    }
    await api(`${PARTICIPANTS}${participant.id}/respond/`, {
      method: "POST",
      body: { response_status: answer },
    });
    $("week-status").textContent = `${answer === "accepted" ? "Accepted" : "Declined"}: ${occurrence.title}`;
    await load();
  } catch (error) {
    fail(error);
  }
}

function timeText(o) {
  const start = new Date(o.start_time);
  const end = new Date(o.end_time);
  if (o.is_all_day) return "All day";
  const sameDay = isoDay(start) === isoDay(end);
  return sameDay
    ? `${timeOf.format(start)}–${timeOf.format(end)}`
    : `${timeOf.format(start)} – ${dateOf.format(end)} ${timeOf.format(end)}`;
}

function occurrenceNode(o) {
  const cancelled = o.status === "cancelled";
  const answer = o.my_response;
  const canAnswer = answer !== null && answer !== undefined && !cancelled;
  return el(
    "li",
    { class: cancelled ? "occurrence cancelled" : "occurrence", "data-id": o.id },
    el("h3", {}, o.title),
    el("p", { class: "meta" }, el("time", { datetime: o.start_time }, timeText(o)), o.location ? ` · ${o.location}` : ""),
    cancelled ? el("p", { class: "meta" }, "Cancelled") : null,
    canAnswer ? el("p", { class: "meta answer" }, `Your answer: ${answer}`) : null,
    canAnswer
      ? el(
          "div",
          { class: "actions" },
          answer === "accepted"
            ? null
            : el(
                "button",
                { type: "button", "aria-label": `Accept ${o.title}`, onclick: () => respond(o, "accepted") },
                "Accept",
              ),
          answer === "declined"
            ? null
            : el(
                "button",
                { type: "button", class: "secondary", "aria-label": `Decline ${o.title}`, onclick: () => respond(o, "declined") },
                "Decline",
              ),
        )
      : null,
  );
}

let loading = 0;

async function load() {
  const monday = weekShown();
  const end = addDays(monday, 7);
  const today = isoDay(new Date());
  $("week-title").textContent = `Week of ${dateOf.format(monday)}`;
  document.title = `My schedule, week of ${dateOf.format(monday)} · LMS`;
  const asked = ++loading;
  try {
    const items = await occurrences(monday, end);
    if (asked !== loading) return;
    const days = Array.from({ length: 7 }, (_, i) => addDays(monday, i));
    const byDay = new Map(days.map((d) => [isoDay(d), []]));
    for (const o of items) {
      const start = new Date(o.start_time);
      const key = start < monday ? isoDay(monday) : isoDay(start);
      (byDay.get(key) || byDay.get(isoDay(days[6]))).push(o);
    }
    $("week").replaceChildren(
      ...days.map((d) => {
        const list = byDay.get(isoDay(d));
        return el(
          "li",
          { class: isoDay(d) === today ? "day today" : "day", "data-day": isoDay(d) },
          el("h2", {}, dayName.format(d)),
          list.length
            ? el("ol", { class: "occurrences" }, ...list.map(occurrenceNode))
            : el("p", { class: "meta" }, "Nothing planned."),
        );
      }),
    );
    $("week-status").textContent ||= `${items.length} item${items.length === 1 ? "" : "s"} this week`;
  } catch (error) {
    fail(error);
  }
}

function main() {
  if (!requireSignIn()) return;
  $("prev-week").addEventListener("click", () => {
    $("week-status").textContent = "";
    go(addDays(weekShown(), -7));
  });
  $("next-week").addEventListener("click", () => {
    $("week-status").textContent = "";
    go(addDays(weekShown(), 7));
  });
  $("this-week").addEventListener("click", () => {
    $("week-status").textContent = "";
    go(mondayOf(new Date()));
  });
  window.addEventListener("popstate", load);
  // An invitation, a change or a cancellation of mine: the week is asked for again.
  onNotification((n) => {
    if (n.type.startsWith("schedule_")) load();
  });
  onNotificationsReset(load);
  load();
}

main();

// A course's roster, for its instructor and admins: enrollees by name with their dates,
// progress and last activity; search, "completed" filter, sorting by a column's header and
// pages (kept in the address); the CSV export; bulk enrollment followed live through
// `job_progress` frames on my notifications socket (polling the job if none arrives).
import {
  $,
  ApiError,
  api,
  el,
  fail,
  onJobProgress,
  personName,
  requireSignIn,
  showError,
  token,
  when,
  withQuery,
} from "./app.js";

const courseId = Number(document.body.dataset.roomId);
const ROSTER = `/api/lms/courses/courses/${courseId}/roster/`;
const BULK = "/api/lms/courses/enrollments/bulk/";
const JOBS = "/api/lms/jobs/jobs/";
const PAGE_SIZE = 25;
const POLL_MS = 2000;
const ORDERS = new Set(["name", "user_id", "enrolled_at", "completed_at", "progress", "last_activity"]);

function state() {
  const params = new URL(window.location.href).searchParams;
  const completed = params.get("completed");
  const ordering = params.get("ordering") || "";
  return {
    search: params.get("search") || "",
    completed: completed === "true" || completed === "false" ? completed : "",
    ordering: ORDERS.has(ordering.replace(/^-/, "")) ? ordering : "",
    page: Math.max(1, Number(params.get("page")) || 1),
  };
}

function go(next) {
  const query = new URLSearchParams();
  if (next.search) query.set("search", next.search);
  if (next.completed) query.set("completed", next.completed);
  if (next.ordering) query.set("ordering", next.ordering);
  if (next.page > 1) query.set("page", String(next.page));
  const qs = query.toString();
  history.pushState(null, "", qs ? `?${qs}` : window.location.pathname);
  load();
}

function apiQuery(s, extra = {}) {
  return { search: s.search, completed: s.completed, ordering: s.ordering, ...extra };
}

const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const MOMENT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// Short in the table (it has to fit a phone); the full moment is the cell's tooltip.
function dateCell(iso, format = DAY) {
  if (!iso) return "—";
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime()) ? iso : format.format(date);
  return el("time", { datetime: iso, title: when(iso) }, text);
}

function row(entry) {
  const percent = Math.round(entry.progress);
  return el(
    "tr",
    { "data-user": entry.user_id },
    el("td", { class: "name" }, personName(entry, "user_id") || entry.name),
    el("td", {}, entry.user_id),
    el("td", {}, dateCell(entry.enrolled_at)),
    el("td", {}, dateCell(entry.completed_at)),
    el(
      "td",
      { class: "progress" },
      el("progress", { max: 100, value: entry.progress, "aria-label": `Progress of ${entry.name}` }),
      ` ${percent}%`,
    ),
    el("td", {}, dateCell(entry.last_activity, MOMENT)),
    el("td", {}, entry.is_active ? "Yes" : "No"),
  );
}

// Each sortable header is a button: the first click sorts ascending, the next descending.
function renderHeaders(ordering) {
  const key = ordering.replace(/^-/, "");
  const descending = ordering.startsWith("-");
  for (const th of document.querySelectorAll("#roster th[data-order]")) {
    const name = th.dataset.order;
    const sorted = name === key;
    th.setAttribute("aria-sort", sorted ? (descending ? "descending" : "ascending") : "none");
    let button = th.querySelector("button");
    if (!button) {
      button = el("button", { type: "button" }, th.textContent.trim());
      button.addEventListener("click", () => {
        const s = state();
        const now = s.ordering.replace(/^-/, "");
        const next = now === name && !s.ordering.startsWith("-") ? `-${name}` : name;
        go({ ...s, ordering: next, page: 1 });
      });
      th.replaceChildren(button);
    }
  }
}

let loading = 0;

async function load() {
  const s = state();
  $("search").value = s.search;
  $("completed").value = s.completed;
  renderHeaders(s.ordering);
  const asked = ++loading;
  try {
    const page = await api(withQuery(ROSTER, apiQuery(s, { page: s.page, page_size: PAGE_SIZE })));
    if (asked !== loading) return;
    showError("");
    const pages = Math.max(1, Math.ceil(page.count / PAGE_SIZE));
    $("result-count").textContent = `${page.count} enrollee${page.count === 1 ? "" : "s"}`;
    $("roster-rows").replaceChildren(...page.results.map(row));
    if (!page.results.length) {
      $("roster-rows").append(el("tr", {}, el("td", { colspan: 7 }, "No one here.")));
    }
    $("page-info").textContent = `Page ${s.page} of ${pages}`;
    $("prev").disabled = s.page <= 1;
    $("next").disabled = s.page >= pages;
  } catch (error) {
    if (asked !== loading) return;
    refused(error);
  }
}

// Only the course's instructor and admins may read its roster: anyone else sees why, and
// none of the page's controls.
function refused(error) {
  if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
    $("roster-section").hidden = true;
    $("bulk-section").hidden = true;
    showError(
      error.status === 403
        ? `Only this course's instructor and admins can see its roster. (${error.message})`
        : `This course does not exist or is not visible to you. (${error.message})`,
    );
    return;
  }
  fail(error);
}

// The export needs the token, which a plain link cannot carry: fetch it with the token and
// hand the browser the bytes as a file.
async function downloadCsv(event) {
  const button = event.currentTarget;
  button.disabled = true;
  showError("");
  try {
    const response = await fetch(withQuery(ROSTER, { ...apiQuery(state()), format: "csv" }), {
      headers: { Accept: "text/csv", Authorization: `Bearer ${token()}` },
    });
    if (!response.ok) {
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      throw new ApiError(response.status, body);
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `course-${courseId}-roster.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    if (error instanceof ApiError) fail(error);
    else showError("The service cannot be reached; check your connection.");
  } finally {
    button.disabled = false;
  }
}

// Bulk enrollment. Frames may come before the 202 does (a small job is done at once): they
// are kept by job id until the page knows which job is its own.
const framesSeen = new Map();
let job = null; // {id, timer, finished}

function showJob(progress, source) {
  const box = $("job");
  box.hidden = false;
  const bar = $("job-progress");
  const total = Math.max(progress.total, 1);
  bar.max = total;
  bar.value = Math.min(progress.done + progress.failed, total);
  bar.dataset.status = progress.status;
  bar.dataset.source = source;
  const counts = `${progress.done + progress.failed} of ${progress.total} rows`;
  const words = { queued: "Queued", running: "Enrolling…", done: "Done", failed: "Stopped" };
  $("job-status").textContent = `${words[progress.status] || progress.status}: ${counts}` +
    (progress.failed ? `, ${progress.failed} not enrolled` : "");
}

// How many frames told of the job on screen (polling is only the fallback).
function countFrame() {
  const bar = $("job-progress");
  bar.dataset.frames = String(Number(bar.dataset.frames || 0) + 1);
}

function finished(status) {
  return status === "done" || status === "failed";
}

async function showResult(jobId) {
  const body = await api(`${JOBS}${jobId}/`);
  showJob(body, "result");
  $("job-status").textContent =
    `${body.status === "done" ? "Done" : "Stopped"}: ${body.enrolled} enrolled, ` +
    `${body.done} of ${body.total} rows applied, ${body.failed} not enrolled.`;
  $("job-errors-title").hidden = !body.errors.length;
  $("job-errors").replaceChildren(
    ...body.errors.map((e) =>
      el("li", {}, `Row ${e.row}${e.user_id ? ` (${e.user_id})` : ""}: ${e.error}`),
    ),
  );
  $("bulk-submit").disabled = false;
  await load();
}

function progressed(progress, source) {
  if (!job || job.finished || progress.job_id !== job.id) return;
  showJob(progress, source);
  if (finished(progress.status)) {
    job.finished = true;
    clearTimeout(job.timer);
    showResult(job.id).catch(fail);
  } else {
    poll(); // a frame came: the next poll waits again
  }
}

// Without a frame for POLL_MS the job is asked for over REST.
function poll() {
  if (!job) return;
  clearTimeout(job.timer);
  const current = job;
  current.timer = setTimeout(async () => {
    try {
      const body = await api(`${JOBS}${current.id}/`);
      progressed({ job_id: body.id, status: body.status, done: body.done, failed: body.failed, total: body.total }, "poll");
      if (!finished(body.status)) poll();
    } catch (error) {
      fail(error);
    }
  }, POLL_MS);
}

onJobProgress((frame) => {
  if (!frame || typeof frame.job_id !== "number") return;
  if (job && frame.job_id === job.id) {
    countFrame();
    progressed(frame, "frame");
  }
  else framesSeen.set(frame.job_id, frame);
});

async function submitBulk(event) {
  event.preventDefault();
  showError("");
  const file = $("csv-file").files[0];
  const ids = $("user-ids")
    .value.split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean); // blank lines are skipped, as in a CSV
  if (!file && !ids.length) {
    showError("Give user ids (one a line) or a CSV file.");
    $("user-ids").focus();
    return;
  }
  let body;
  if (file) {
    body = new FormData();
    body.append("course", String(courseId));
    body.append("file", file, file.name);
  } else {
    body = { course: courseId, user_ids: ids };
  }
  $("bulk-submit").disabled = true;
  $("job-errors").replaceChildren();
  $("job-errors-title").hidden = true;
  try {
    const started = await api(BULK, { method: "POST", body });
    if (job) clearTimeout(job.timer);
    job = { id: started.id, timer: null, finished: false };
    $("job-progress").dataset.frames = "0";
    showJob(started, "start");
    const early = framesSeen.get(started.id);
    framesSeen.clear();
    if (early) {
      countFrame();
      progressed(early, "frame");
    }
    else if (finished(started.status)) progressed({ ...started, job_id: started.id }, "start");
    else poll();
    $("user-ids").value = "";
    $("csv-file").value = "";
  } catch (error) {
    $("bulk-submit").disabled = false;
    fail(error);
  }
}

async function main() {
  if (!requireSignIn()) return;
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    go({ ...state(), search: $("search").value.trim(), completed: $("completed").value, page: 1 });
  });
  $("prev").addEventListener("click", () => go({ ...state(), page: state().page - 1 }));
  $("next").addEventListener("click", () => go({ ...state(), page: state().page + 1 }));
  $("download-csv").addEventListener("click", downloadCsv);
  $("bulk").addEventListener("submit", submitBulk);
  window.addEventListener("popstate", load);
  try {
    const course = await api(`/api/lms/courses/courses/${courseId}/`);
    $("page-title").textContent = `Roster: ${course.title}`;
    document.title = `Roster: ${course.title} · LMS`;
  } catch (error) {
    refused(error);
    return;
  }
  await load();
}

main();

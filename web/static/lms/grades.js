// My grades: the grades released to me, a table per course (the item, my score of its
// points), read a hundred at a time until the API has no more.
import { $, api, el, fail, points, requireSignIn, when } from "./app.js";

const GRADES = "/api/lms/courses/grades/";

async function everything() {
  const rows = [];
  let next = `${GRADES}?page_size=100`;
  while (next) {
    const body = await api(next);
    rows.push(...body.results);
    next = body.next ? new URL(body.next, window.location.href).pathname + new URL(body.next, window.location.href).search : null;
  }
  return rows;
}

function courseTable(courseId, title, grades) {
  const headingId = `course-${courseId}-title`;
  return el(
    "section",
    { class: "panel", "data-course": courseId, "aria-labelledby": headingId },
    el("h2", { id: headingId }, el("a", { href: `/lms/courses/${courseId}/` }, title)),
    el(
      "div",
      { class: "table-wrap", role: "region", "aria-labelledby": headingId, tabindex: 0 },
      el(
        "table",
        { class: "roster grades" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Item"), el("th", { scope: "col" }, "Score"), el("th", { scope: "col" }, "Graded"))),
        el(
          "tbody",
          {},
          ...grades.map((grade) =>
            el(
              "tr",
              { "data-item": grade.item.id },
              el("th", { scope: "row", class: "name" }, grade.item.title, el("span", { class: "help" }, ` (${grade.item.category})`)),
              el("td", { class: "score" }, points(grade.score, grade.item.max_points)),
              el("td", {}, when(grade.graded_at)),
            ),
          ),
        ),
      ),
    ),
  );
}

async function main() {
  if (!requireSignIn()) return;
  try {
    const grades = await everything();
    const byCourse = new Map();
    for (const grade of grades) {
      if (!byCourse.has(grade.course)) byCourse.set(grade.course, { title: grade.course_title, grades: [] });
      byCourse.get(grade.course).grades.push(grade);
    }
    $("grades").replaceChildren(
      ...[...byCourse.entries()].map(([courseId, { title, grades: list }]) => courseTable(courseId, title, list)),
    );
    $("grades-count").textContent = grades.length
      ? `${grades.length} ${grades.length === 1 ? "grade" : "grades"} in ${byCourse.size} ${byCourse.size === 1 ? "course" : "courses"}`
      : "No grades released to you yet.";
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();

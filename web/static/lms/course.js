// A course: modules and lessons, my enrollment and progress, enroll or add to cart, and the
// course's notifications as toasts while the page is open. Which lessons I completed and
// where I resume come from the API (each lesson's `completed`, the enrollment's
// `completed_lesson_ids` and `last_lesson_id`): the page keeps no lesson state of its own.
import { $, api, ApiError, canChangeCourse, el, fail, me, money, personName, requireSignIn, Room, showError, toast, withQuery } from "./app.js";

const courseId = Number(document.body.dataset.roomId);
let course = null;
let enrollment = null;
let room = null;
// The course's lessons as last listed, by id (for the resume link's title).
let lessonsById = new Map();
// The course's quizzes by lesson: a lesson of type "quiz" links to its quiz.
let quizzesByLesson = new Map();

function isFree() {
  return Number(course.current_price) === 0;
}

function renderCourse() {
  $("page-title").textContent = course.title;
  document.title = `${course.title} · LMS`;
  const rating = course.rating_count ? ` · rated ${course.average_rating.toFixed(1)} (${course.rating_count})` : "";
  $("course-meta").textContent =
    `${course.code} · ${course.level} · ${money(course.current_price, course.currency)} · ${course.completion_hours} h${rating}`;
  const teacher = personName(course, "instructor_id");
  $("course-instructor").textContent = teacher ? `Taught by ${teacher}` : "";
  // The roster is its instructor's and admins' (the API says so too).
  $("roster-link").hidden = !canChangeCourse(course);
  $("roster-link").href = `/lms/courses/${courseId}/roster/`;
  $("outline-link").hidden = !canChangeCourse(course);
  $("outline-link").href = `/lms/courses/${courseId}/outline/`;
  $("gradebook-link").hidden = !canChangeCourse(course);
  $("course-description").textContent = course.description || course.short_description;
  $("course").hidden = false;
}

function renderEnrollment() {
  const enrolled = enrollment && enrollment.is_active;
  $("progress-box").hidden = !enrolled;
  $("enroll").hidden = enrolled || !isFree();
  $("add-to-cart").hidden = enrolled || isFree();
  if (enrolled) {
    $("progress").value = enrollment.progress;
    $("progress-text").textContent = `${Math.round(enrollment.progress)}% complete`;
    $("enrollment-state").textContent = enrollment.completed_at
      ? "Enrolled · course completed"
      : "Enrolled";
    renderResume();
  } else {
    $("resume").hidden = true;
    $("enrollment-state").textContent = canChangeCourse(course)
      ? "You teach this course."
      : isFree()
        ? "This course is free."
        : "Buy this course to enroll.";
  }
}

// "Resume" leads to the lesson I last opened, when it is still in the course.
function renderResume() {
  const lesson = enrollment && lessonsById.get(enrollment.last_lesson_id);
  $("resume").hidden = !lesson;
  if (!lesson) return;
  $("resume").href = `#lesson-${lesson.id}`;
  $("resume").textContent = `Resume: ${lesson.title}`;
}

function openLesson(lessonId) {
  const item = $(`lesson-${lessonId}`);
  if (!item) return;
  const body = item.querySelector("details");
  if (body) body.open = true;
  item.scrollIntoView({ block: "start" });
  (item.querySelector("summary") || item).focus();
}

function lessonItem(lesson) {
  const enrolled = enrollment && enrollment.is_active;
  const done = lesson.completed;
  const title = el("span", {}, `${lesson.title} (${lesson.lesson_type}, ${lesson.duration_minutes} min)`);
  let action = null;
  if (enrolled && done) {
    action = el("span", { class: "done" }, "Completed");
  } else if (enrolled) {
    action = el(
      "button",
      {
        type: "button",
        class: "secondary",
        "aria-label": `Mark “${lesson.title}” complete`,
        onclick: (event) => complete(lesson, event.currentTarget),
      },
      "Mark complete",
    );
  }
  const body = lesson.content
    ? el(
        "details",
        { ontoggle: (event) => event.currentTarget.open && enrolled && viewed(lesson) },
        el("summary", {}, "Read"),
        el("p", { class: "prose" }, lesson.content),
      )
    : null;
  // `file` is set only for those who may download it (enrollees, the instructor, admins).
  const file = lesson.file
    ? el(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Download “${lesson.file_name}”`,
          onclick: (event) => download(lesson, event.currentTarget),
        },
        `Download ${lesson.file_name}`,
      )
    : null;
  const quiz = lesson.lesson_type === "quiz" ? quizzesByLesson.get(lesson.id) : null;
  const quizLink = quiz
    ? el("a", { href: `/lms/quizzes/${quiz.id}/`, "aria-label": `Open the quiz “${quiz.title}”` }, "Open the quiz")
    : null;
  return el(
    "li",
    { class: "lesson", id: `lesson-${lesson.id}`, tabindex: -1, "data-lesson": lesson.id },
    title,
    quizLink,
    file,
    action,
    body,
  );
}

// The file needs the token, which a plain link cannot carry: ask for a short-lived signed
// link at the moment of the click (so it never goes stale on an open page) and follow it.
// The server sends the file as an attachment under its name, so the page stays.
async function download(lesson, button) {
  button.disabled = true;
  showError("");
  try {
    const link = await api(`/api/lms/courses/lessons/${lesson.id}/file-link/`);
    const anchor = el("a", { href: link.url, download: lesson.file_name, hidden: true });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

async function renderModules() {
  const [modules, lessons, quizzes] = await Promise.all([
    api(withQuery("/api/lms/courses/modules/", { course: courseId, page_size: 100 })),
    api(withQuery("/api/lms/courses/lessons/", { course: courseId, page_size: 100 })),
    // A quiz is a link beside its lesson: the course shows without them.
    api(withQuery("/api/lms/courses/quizzes/", { course: courseId, page_size: 100 })).catch(() => ({ results: [] })),
  ]);
  quizzesByLesson = new Map(quizzes.results.map((quiz) => [quiz.lesson, quiz]));
  const byModule = new Map();
  lessonsById = new Map(lessons.results.map((lesson) => [lesson.id, lesson]));
  for (const lesson of lessons.results) {
    if (!byModule.has(lesson.module)) byModule.set(lesson.module, []);
    byModule.get(lesson.module).push(lesson);
  }
  $("modules").replaceChildren(
    ...modules.results.map((module) =>
      el(
        "li",
        {},
        el("h3", {}, module.title),
        module.description ? el("p", { class: "prose" }, module.description) : null,
        el("ol", { class: "lessons" }, ...(byModule.get(module.id) || []).map(lessonItem)),
      ),
    ),
  );
  if (!modules.results.length) $("modules").append(el("li", {}, "No modules yet."));
  if (enrollment && enrollment.is_active) renderResume();
}

// Opening a lesson makes it where I resume.
async function viewed(lesson) {
  if (enrollment && enrollment.last_lesson_id === lesson.id) return;
  try {
    enrollment = await api(`/api/lms/courses/lessons/${lesson.id}/view/`, { method: "POST" });
    renderResume();
  } catch (error) {
    fail(error);
  }
}

async function complete(lesson, button) {
  button.disabled = true;
  try {
    enrollment = await api(`/api/lms/courses/lessons/${lesson.id}/complete/`, { method: "POST" });
    if (enrollment.completed_lesson_ids.includes(lesson.id)) {
      button.replaceWith(el("span", { class: "done" }, "Completed"));
    }
    renderEnrollment();
  } catch (error) {
    button.disabled = false;
    fail(error);
  }
}

async function loadEnrollment() {
  const page = await api(withQuery("/api/lms/courses/enrollments/", { course: courseId, user_id: me() }));
  enrollment = page.results.find((e) => e.user === me()) || null;
}

function listen() {
  // The room admits the instructor, admins and enrollees: others would be refused (4403).
  if (room || !((enrollment && enrollment.is_active) || canChangeCourse(course))) return;
  room = new Room(`/ws/lms/course/${courseId}/notifications/`, {
    onStatus: (state) => {
      document.body.dataset.notifications = state;
    },
    onEvent: async (type, data) => {
      if (type === "announcement") toast(`Announcement: ${data.title}`, data.message, 15);
      else if (type === "lesson_created") toast("New lesson", data.title);
      else if (type === "course_updated") toast("Course updated", data.title);
      else if (type === "enrollment" && canChangeCourse(course)) await announceEnrollment(data.enrollment_id);
      if (type === "lesson_created" || type === "course_updated") await refresh();
    },
  });
  room.connect();
}

// Enrollment events name no one (enrollees share the room); the instructor reads who.
async function announceEnrollment(enrollmentId) {
  const enrolled = await api(`/api/lms/courses/enrollments/${enrollmentId}/`);
  if (enrolled.user !== me()) toast("New enrollment", personName(enrolled, "user"));
}

async function refresh() {
  course = await api(`/api/lms/courses/courses/${courseId}/`);
  await loadEnrollment();
  renderCourse();
  renderEnrollment();
  await renderModules();
}

$("resume").addEventListener("click", (event) => {
  event.preventDefault();
  if (enrollment && enrollment.last_lesson_id) openLesson(enrollment.last_lesson_id);
});

$("enroll").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  showError("");
  try {
    enrollment = await api(`/api/lms/courses/enrollments/course/${courseId}/`, { method: "POST" });
    renderEnrollment();
    await renderModules();
    toast("Enrolled", course.title);
    listen();
  } catch (error) {
    if (error instanceof ApiError && error.status === 402) {
      $("add-to-cart").hidden = false;
      $("enroll").hidden = true;
    }
    fail(error);
  } finally {
    button.disabled = false;
  }
});

$("add-to-cart").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  showError("");
  try {
    await api("/api/lms/carts/cart-items/", { method: "POST", body: { course: courseId, quantity: 1 } });
    $("enrollment-state").textContent = "In your cart.";
    $("go-to-cart").hidden = false;
    $("go-to-cart").focus();
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
});

async function main() {
  if (!requireSignIn()) return;
  try {
    await refresh();
    listen();
  } catch (error) {
    fail(error);
  }
}

main();

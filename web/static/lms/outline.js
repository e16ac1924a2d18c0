// A course's outline editor, for its instructor and admins: modules and lessons created,
// edited, deleted and moved up or down (the new order is written as each item's `order`,
// 0, 1, 2…, so it persists); the course's thumbnail, a lesson's file and its resources.
// Every change goes through the API and the outline is read again after it: the page keeps
// nothing the API does not say.
import { $, api, canChangeCourse, el, fail, requireSignIn, showError, withQuery } from "./app.js";

const courseId = Number(document.body.dataset.roomId);
const BASE = "/api/lms/courses/";
const LESSON_TYPES = ["text", "video", "file", "link", "quiz"];

let course = null;
let modules = [];
let lessonsByModule = new Map();
// The course's quizzes by lesson: a lesson of type "quiz" links to its quiz's editor.
let quizzesByLesson = new Map();
// Which <details> are open (by key) and the resources read for each open lesson.
const open = new Set();
const resources = new Map();
let busy = false;

function say(text) {
  $("status").textContent = text;
}

function byOrder(a, b) {
  return a.order - b.order || a.id - b.id;
}

async function load() {
  const [moduleList, lessonList, quizList] = await Promise.all([
    api(withQuery(`${BASE}modules/`, { course: courseId, page_size: 100 })),
    api(withQuery(`${BASE}lessons/`, { course: courseId, page_size: 100 })),
    // The quizzes are a link beside a lesson: the outline works without them.
    api(withQuery(`${BASE}quizzes/`, { course: courseId, page_size: 100 })).catch(() => ({ results: [] })),
  ]);
  quizzesByLesson = new Map(quizList.results.map((quiz) => [quiz.lesson, quiz]));
  modules = moduleList.results.slice().sort(byOrder);
  lessonsByModule = new Map(modules.map((module) => [module.id, []]));
  for (const lesson of lessonList.results) {
    if (lessonsByModule.has(lesson.module)) lessonsByModule.get(lesson.module).push(lesson);
  }
  for (const list of lessonsByModule.values()) list.sort(byOrder);
  await Promise.all(
    [...open]
      .filter((key) => key.startsWith("lesson-"))
      .map((key) => loadResources(Number(key.slice(7)))),
  );
}

async function loadResources(lessonId) {
  const page = await api(withQuery(`${BASE}resources/`, { lesson: lessonId, page_size: 100 }));
  resources.set(lessonId, page.results);
}

/** Runs one change, then reads the outline again and shows it; one change at a time. */
async function change(work, done, focusId) {
  if (busy) return;
  busy = true;
  document.body.dataset.busy = "true";
  showError("");
  say("Saving…");
  try {
    await work();
    await load();
    render();
    say(done);
    const target = focusId && $(focusId);
    if (target && !target.disabled) target.focus();
  } catch (error) {
    say("");
    fail(error);
  } finally {
    busy = false;
    document.body.dataset.busy = "false";
  }
}

// The new order is written as 0, 1, 2…, skipping items already in place.
async function renumber(kind, items) {
  for (const [index, item] of items.entries()) {
    if (item.order !== index) {
      await api(`${BASE}${kind}/${item.id}/`, { method: "PATCH", body: { order: index } });
    }
  }
}

function moved(list, index, step) {
  const copy = list.slice();
  const [item] = copy.splice(index, 1);
  copy.splice(index + step, 0, item);
  return copy;
}

function moveButtons(kind, list, index) {
  const item = list[index];
  const button = (step, word, arrow) =>
    el(
      "button",
      {
        type: "button",
        class: "secondary small",
        id: `${word}-${kind}-${item.id}`,
        "aria-label": `Move “${item.title}” ${word}`,
        disabled: index + step < 0 || index + step >= list.length,
        onclick: () =>
          change(
            () => renumber(kind === "module" ? "modules" : "lessons", moved(list, index, step)),
            `Moved “${item.title}” ${word}.`,
            `${word}-${kind}-${item.id}`,
          ),
      },
      `${arrow} ${word[0].toUpperCase()}${word.slice(1)}`,
    );
  return el("div", { class: "actions" }, button(-1, "up", "↑"), button(1, "down", "↓"));
}

/** A <details> whose open state survives the outline being drawn again. */
function disclosure(key, summary, onOpen, ...children) {
  return el(
    "details",
    {
      open: open.has(key),
      ontoggle: (event) => {
        if (event.currentTarget.open) {
          if (!open.has(key)) {
            open.add(key);
            if (onOpen) onOpen();
          }
        } else {
          open.delete(key);
        }
      },
    },
    el("summary", {}, summary),
    ...children,
  );
}

function field(id, label, control) {
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control);
}

function typeSelect(value) {
  return el(
    "select",
    { name: "lesson_type" },
    ...LESSON_TYPES.map((type) => el("option", { value: type, selected: type === value }, type)),
  );
}

function lessonFields(prefix, lesson) {
  return [
    field(`${prefix}-title`, "Lesson title", el("input", { name: "title", maxlength: 200, required: true, value: lesson.title || "", autocomplete: "off" })),
    field(`${prefix}-type`, "Type", typeSelect(lesson.lesson_type || "text")),
    field(`${prefix}-minutes`, "Duration (minutes)", el("input", { name: "duration_minutes", type: "number", min: 0, max: 100000, value: lesson.duration_minutes ?? 0 })),
    field(`${prefix}-content`, "Content", el("textarea", { name: "content", rows: 4 }, lesson.content || "")),
  ];
}

function lessonBody(form) {
  const data = new FormData(form);
  return {
    title: String(data.get("title")).trim(),
    lesson_type: data.get("lesson_type"),
    duration_minutes: Number(data.get("duration_minutes")) || 0,
    content: String(data.get("content")),
  };
}

function nextOrder(list) {
  return list.length ? Math.max(...list.map((item) => item.order)) + 1 : 0;
}

function confirmDelete(what) {
  return window.confirm(`Delete “${what}”? This cannot be undone.`);
}

function resourceList(lesson) {
  const list = resources.get(lesson.id);
  if (!list) return el("p", { class: "help" }, "Loading resources…");
  if (!list.length) return el("p", { class: "help" }, "No resources yet.");
  return el(
    "ul",
    { class: "resources" },
    ...list.map((resource) =>
      el(
        "li",
        { "data-resource": resource.id },
        el("a", { href: resource.url, rel: "noopener noreferrer" }, resource.title),
        el(
          "button",
          {
            type: "button",
            class: "secondary small",
            "aria-label": `Remove resource “${resource.title}”`,
            onclick: () =>
              confirmDelete(resource.title) &&
              change(
                () => api(`${BASE}resources/${resource.id}/`, { method: "DELETE" }),
                `Removed “${resource.title}”.`,
              ),
          },
          "Remove",
        ),
      ),
    ),
  );
}

function quizAction(lesson) {
  if (lesson.lesson_type !== "quiz") return null;
  const quiz = quizzesByLesson.get(lesson.id);
  if (quiz) {
    return el("a", { class: "quiz-link", href: `/lms/quizzes/${quiz.id}/edit/` }, `Edit the quiz “${quiz.title}”`);
  }
  return el(
    "button",
    {
      type: "button",
      class: "secondary small",
      onclick: () =>
        change(async () => {
          const made = await api(`${BASE}quizzes/`, { method: "POST", body: { lesson: lesson.id, title: lesson.title } });
          window.location.assign(`/lms/quizzes/${made.id}/edit/`);
        }, "Quiz created."),
    },
    `Create the quiz of “${lesson.title}”`,
  );
}

function lessonItem(lesson, list, index) {
  const id = lesson.id;
  const edit = el(
    "form",
    {
      class: "stack",
      "aria-label": `Edit lesson “${lesson.title}”`,
      onsubmit: (event) => {
        event.preventDefault();
        const body = lessonBody(event.currentTarget);
        change(() => api(`${BASE}lessons/${id}/`, { method: "PATCH", body }), `Saved “${body.title}”.`);
      },
    },
    ...lessonFields(`lesson-${id}`, lesson),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "submit" }, "Save lesson"),
      el(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: () =>
            confirmDelete(lesson.title) &&
            change(() => api(`${BASE}lessons/${id}/`, { method: "DELETE" }), `Deleted “${lesson.title}”.`),
        },
        "Delete lesson",
      ),
    ),
  );
  const upload = el(
    "form",
    {
      class: "stack",
      "aria-label": `File of “${lesson.title}”`,
      onsubmit: (event) => {
        event.preventDefault();
        const input = event.currentTarget.querySelector("input[type=file]");
        if (!input.files.length) return;
        const body = new FormData();
        body.append("file", input.files[0]);
        change(
          () => api(`${BASE}lessons/${id}/upload-file/`, { method: "POST", body }),
          `Uploaded ${input.files[0].name}.`,
        );
      },
    },
    field(`lesson-${id}-file`, lesson.file_name ? `Replace the file (now ${lesson.file_name})` : "Lesson file (up to 100 MB)", el("input", { type: "file", name: "file", required: true })),
    el("button", { type: "submit", class: "secondary" }, "Upload file"),
  );
  const addResource = el(
    "form",
    {
      class: "stack",
      "aria-label": `Add a resource to “${lesson.title}”`,
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        const body = { lesson: id, title: String(data.get("title")).trim(), url: String(data.get("url")).trim() };
        change(() => api(`${BASE}resources/`, { method: "POST", body }), `Added resource “${body.title}”.`);
      },
    },
    field(`lesson-${id}-resource-title`, "Resource title", el("input", { name: "title", maxlength: 200, required: true, autocomplete: "off" })),
    field(`lesson-${id}-resource-url`, "Resource address (https://…)", el("input", { name: "url", type: "url", required: true, autocomplete: "off" })),
    el("button", { type: "submit", class: "secondary" }, "Add resource"),
  );
  return el(
    "li",
    { class: "outline-lesson", "data-lesson": id },
    el(
      "div",
      { class: "item-head" },
      el(
        "span",
        { class: "item-title" },
        lesson.title,
        el("span", { class: "help" }, ` (${lesson.lesson_type}, ${lesson.duration_minutes} min)`),
        lesson.file_name ? el("span", { class: "help file-name" }, ` · file: ${lesson.file_name}`) : null,
      ),
      moveButtons("lesson", list, index),
    ),
    quizAction(lesson),
    disclosure(
      `lesson-${id}`,
      `Edit “${lesson.title}”: details, file, resources`,
      () => loadResources(id).then(() => {
        const box = document.querySelector(`[data-lesson="${id}"] .resource-box`);
        if (box) box.replaceChildren(resourceList(lesson));
      }).catch(fail),
      edit,
      el("h4", {}, "File"),
      upload,
      el("h4", {}, "Resources"),
      el("div", { class: "resource-box" }, resourceList(lesson)),
      addResource,
    ),
  );
}

function moduleItem(module, index) {
  const id = module.id;
  const lessons = lessonsByModule.get(id) || [];
  const edit = el(
    "form",
    {
      class: "stack",
      "aria-label": `Edit module “${module.title}”`,
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        const body = { title: String(data.get("title")).trim(), description: String(data.get("description")) };
        change(() => api(`${BASE}modules/${id}/`, { method: "PATCH", body }), `Saved “${body.title}”.`);
      },
    },
    field(`module-${id}-title`, "Module title", el("input", { name: "title", maxlength: 200, required: true, value: module.title, autocomplete: "off" })),
    field(`module-${id}-description`, "Module description", el("textarea", { name: "description", rows: 2 }, module.description || "")),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "submit" }, "Save module"),
      el(
        "button",
        {
          type: "button",
          class: "danger",
          onclick: () =>
            confirmDelete(module.title) &&
            change(() => api(`${BASE}modules/${id}/`, { method: "DELETE" }), `Deleted “${module.title}”.`),
        },
        "Delete module and its lessons",
      ),
    ),
  );
  const addLesson = el(
    "form",
    {
      class: "stack",
      "aria-label": `Add a lesson to “${module.title}”`,
      onsubmit: (event) => {
        event.preventDefault();
        const body = { module: id, order: nextOrder(lessons), ...lessonBody(event.currentTarget) };
        change(() => api(`${BASE}lessons/`, { method: "POST", body }), `Added lesson “${body.title}”.`, `module-${id}-new-title`);
      },
    },
    ...lessonFields(`module-${id}-new`, {}),
    el("button", { type: "submit" }, "Add lesson"),
  );
  return el(
    "li",
    { class: "outline-module", "data-module": id },
    el("div", { class: "item-head" }, el("h3", {}, module.title), moveButtons("module", modules, index)),
    disclosure(`module-${id}`, `Edit module “${module.title}”`, null, edit),
    lessons.length
      ? el("ol", { class: "outline-lessons" }, ...lessons.map((lesson, n) => lessonItem(lesson, lessons, n)))
      : el("p", { class: "help" }, "No lessons yet."),
    disclosure(`module-${id}-add`, `Add a lesson to “${module.title}”`, null, addLesson),
  );
}

function renderThumbnail() {
  const image = $("thumbnail");
  image.hidden = !course.thumbnail;
  $("no-thumbnail").hidden = Boolean(course.thumbnail);
  if (course.thumbnail) image.src = course.thumbnail;
}

function render() {
  renderThumbnail();
  $("outline").replaceChildren(...modules.map(moduleItem));
  if (!modules.length) $("outline").append(el("li", { class: "help" }, "No modules yet: add the first below."));
}

$("module-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const body = {
    course: courseId,
    title: String(data.get("title")).trim(),
    description: String(data.get("description")),
    order: nextOrder(modules),
  };
  change(async () => {
    await api(`${BASE}modules/`, { method: "POST", body });
    form.reset();
  }, `Added module “${body.title}”.`, "new-module-title");
});

$("thumbnail-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("thumbnail-file");
  if (!input.files.length) return;
  const body = new FormData();
  body.append("file", input.files[0]);
  change(async () => {
    course = await api(`${BASE}courses/${courseId}/upload-thumbnail/`, { method: "POST", body });
    input.value = "";
  }, "Thumbnail uploaded.");
});

async function main() {
  if (!requireSignIn()) return;
  try {
    course = await api(`${BASE}courses/${courseId}/`);
    $("page-title").textContent = `Outline: ${course.title}`;
    document.title = `Outline: ${course.title} · LMS`;
    if (!canChangeCourse(course)) {
      showError("Only this course's instructor and admins can edit its outline.");
      return;
    }
    await load();
    render();
    $("editor").hidden = false;
    document.body.dataset.ready = "true";
  } catch (error) {
    fail(error);
  }
}

main();

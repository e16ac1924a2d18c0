// Submitted files, shared by the assignment page and the grading queue: each a button that
// downloads it with the token (a plain link cannot carry it).
import { downloadWithToken, el, fail } from "./app.js";

export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A submission's files as download buttons (the files need the token). */
export function fileButtons(files) {
  if (!files.length) return null;
  return el(
    "ul",
    { class: "files" },
    ...files.map((file) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "secondary small",
            "aria-label": `Download “${file.name}”`,
            onclick: async (event) => {
              const button = event.currentTarget;
              button.disabled = true;
              try {
                await downloadWithToken(file.url, file.name);
              } catch (error) {
                fail(error);
              } finally {
                button.disabled = false;
              }
            },
          },
          `${file.name} (${size(file.size)})`,
        ),
      ),
    ),
  );
}

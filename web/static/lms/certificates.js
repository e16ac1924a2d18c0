// My certificates: each with its course, date and code, "Download PDF" (the file needs the
// token, so it is fetched and saved) and the public verification address.
import { $, api, downloadWithToken, el, fail, requireSignIn, showError, when } from "./app.js";

const CERTIFICATES = "/api/lms/courses/certificates/";

function card(certificate) {
  const revoked = certificate.status === "revoked";
  return el(
    "li",
    { class: "card", "data-certificate": certificate.id },
    el("h2", {}, certificate.course_title),
    el("p", { class: "meta" }, `Issued to ${certificate.holder_name} on ${when(certificate.issued_at)} · code ${certificate.code}`),
    revoked ? el("p", { class: "notice notice-error" }, `Revoked ${when(certificate.revoked_at)}: ${certificate.revoke_reason}`) : null,
    el(
      "div",
      { class: "actions" },
      el(
        "button",
        {
          type: "button",
          "aria-label": `Download the certificate of “${certificate.course_title}” (PDF)`,
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            showError("");
            try {
              await downloadWithToken(certificate.download_url, `certificate-${certificate.code}.pdf`, "application/pdf");
            } catch (error) {
              fail(error);
            } finally {
              button.disabled = false;
            }
          },
        },
        "Download PDF",
      ),
      el("a", { href: certificate.verify_url, "aria-label": `Verification page of “${certificate.course_title}”` }, "Verification page"),
    ),
  );
}

async function main() {
  if (!requireSignIn()) return;
  try {
    const body = await api(`${CERTIFICATES}?page_size=100`);
    $("certificates").replaceChildren(...body.results.map(card));
    $("certificates-count").textContent = body.count
      ? `${body.count} ${body.count === 1 ? "certificate" : "certificates"}`
      : "No certificates yet.";
  } catch (error) {
    fail(error);
  } finally {
    document.body.dataset.ready = "true";
  }
}

main();

// Sign in by pasting a token (development) or arriving with `?token=` (app.js keeps it).
import { $, me, setToken, signOut } from "./app.js";

function nextPage() {
  // Only a path on this site: an open redirect would hand the session to anyone's page.
  const next = new URL(window.location.href).searchParams.get("next") || "/lms/";
  return next.startsWith("/lms/") && !next.startsWith("//") ? next : "/lms/";
}

function show() {
  const who = me();
  $("signed-in-as").hidden = !who;
  $("signed-in-as").textContent = who ? `You are signed in as ${who}.` : "";
  $("signout").hidden = !who;
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token").value.trim();
  if (value.split(".").length !== 3) {
    $("page-error").textContent = "That does not look like a token (three parts separated by dots).";
    $("page-error").hidden = false;
    $("token").focus();
    return;
  }
  setToken(value);
  window.location.assign(nextPage());
});

$("signout").addEventListener("click", () => {
  signOut();
  show();
  window.location.assign("/lms/signin/");
});

show();

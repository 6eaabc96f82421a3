// Passkey ceremonies and CSRF headers for the dashboard (runs under CSP script-src 'self').
// Forms marked data-passkey="setup|login|invite|add" run a WebAuthn ceremony: POST their
// data-options URL for a challenge, call navigator.credentials, POST the answer to data-verify,
// then follow the redirect the server returns. Uses the browser's own JSON helpers
// (PublicKeyCredential.parse*OptionsFromJSON, credential.toJSON()), so no library is needed.

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function postJson(url, body) {
  const headers = { "Content-Type": "application/json" };
  const token = csrfToken();
  if (token) headers["X-CSRF-Token"] = token;
  const response = await fetch(url, {
    method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch { /* an HTML error page */ }
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    throw new Error((data.message || `Request failed (${response.status})`) +
      (retry ? ` Try again in ${retry} s.` : ""));
  }
  return data;
}

function fields(form) {
  const out = {};
  for (const [key, value] of new FormData(form)) out[key] = String(value);
  return out;
}

async function ceremony(form) {
  const kind = form.dataset.passkey;
  const data = fields(form);
  if (form.dataset.secret) data.secret = form.dataset.secret;
  const start = await postJson(form.dataset.options, data);
  let credential;
  if (kind === "login") {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(start.publicKey);
    credential = await navigator.credentials.get({ publicKey });
  } else {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(start.publicKey);
    credential = await navigator.credentials.create({ publicKey });
  }
  if (!credential) throw new Error("No passkey was chosen.");
  const done = await postJson(form.dataset.verify, {
    challenge_id: start.challenge_id,
    credential: credential.toJSON(),
    passkey_name: data.passkey_name || "",
    next: form.dataset.next || "",
  });
  window.location.assign(done.redirect);
}

function supported() {
  return window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";
}

function bind(form) {
  const status = form.querySelector("[data-status]");
  const button = form.querySelector("button[type=submit]");
  if (!supported()) {
    if (status) status.textContent = "This browser does not support passkeys. Try a current Chrome, Safari, Edge or Firefox.";
    if (button) button.disabled = true;
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    if (button) button.disabled = true;
    if (status) { status.textContent = "Waiting for your passkey…"; status.dataset.state = "busy"; }
    try {
      await ceremony(form);
    } catch (error) {
      const cancelled = error && error.name === "NotAllowedError";
      if (status) {
        status.textContent = cancelled ? "Cancelled or timed out. Try again." : error.message;
        status.dataset.state = "error";
      }
      if (button) button.disabled = false;
    }
  });
}

// HTMX requests carry the CSRF token as a header (the server also checks their Origin).
document.addEventListener("htmx:configRequest", (event) => {
  const token = csrfToken();
  if (token) event.detail.headers["X-CSRF-Token"] = token;
});

function init() {
  for (const form of document.querySelectorAll("form[data-passkey]")) bind(form);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();

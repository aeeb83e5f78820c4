// The console's little script: search as you type, copy to the clipboard, upload progress,
// and confirmations. Every page works without it (plain forms and links).
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

function signInIfAsked(response) {
  const target = response.headers.get("X-Sign-In");
  if (target) window.location.assign(target);
  return Boolean(target);
}

// -- search as you type ------------------------------------------------------------------

function liveSearch(form) {
  const results = document.getElementById("results");
  const endpoint = form.dataset.live;
  let timer = null;
  let inFlight = null;
  let last = null;

  async function run(asked = false) {
    const params = new URLSearchParams(new FormData(form));
    const key = params.toString();
    if (key === last && !asked) return;
    last = key;
    if (asked) params.set("asked", "1"); // asked, not just typed: the server logs it
    if (inFlight) inFlight.abort(); // only the latest keystroke's answer is shown
    inFlight = new AbortController();
    results.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`${endpoint}?${params}`, {
        headers: { "X-Requested-With": "fetch" },
        signal: inFlight.signal,
      });
      if (signInIfAsked(response)) return;
      results.innerHTML = await response.text();
      history.replaceState(null, "", `/?${key}`);
    } catch (err) {
      if (err.name !== "AbortError") {
        results.innerHTML = '<p class="alert error">查询失败，请检查网络后重试。</p>';
        last = null;
      }
    } finally {
      results.setAttribute("aria-busy", "false");
    }
  }

  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  };
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run(true);
  });
}

// -- copy --------------------------------------------------------------------------------

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (err) {
      // Refused (permissions): fall back to the selection below.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  return ok;
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const ok = await copyText(button.dataset.copy);
  button.textContent = ok ? "已复制 ✓" : "复制失败，请手动选择文字";
  button.classList.toggle("copied", ok);
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove("copied");
  }, 2000);
});

// -- confirmations -----------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (!button) return;
  // A form with a required field left empty: the browser says what is missing, nothing to confirm yet.
  if (button.form && !button.form.checkValidity()) return;
  if (!window.confirm(button.dataset.confirm)) event.preventDefault();
});

// -- roster upload: the upload's progress, then the import's, then its report ------------

function pollJob(box) {
  const job = box.querySelector("[data-job]");
  if (!job || job.dataset.state !== "running") return;
  setTimeout(async () => {
    const response = await fetch(job.dataset.job, { headers: { "X-Requested-With": "fetch" } });
    if (signInIfAsked(response)) return;
    box.innerHTML = await response.text();
    const now = box.querySelector("[data-job]");
    if (now && now.dataset.state === "done") refreshSection("#batches"); // the new batch is listed
    pollJob(box);
  }, 700);
}

async function refreshSection(selector) {
  const section = document.querySelector(selector);
  if (!section) return;
  const response = await fetch(window.location.href);
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector(selector);
  if (fresh) section.replaceWith(fresh);
}

function uploadForm(form) {
  const box = document.querySelector(form.dataset.upload);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const request = new XMLHttpRequest();
    box.innerHTML = '<p>正在上传……</p><progress class="upload" max="100" value="0"></progress>';
    const bar = box.querySelector("progress");
    request.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    };
    request.onload = () => {
      button.disabled = false;
      const target = request.getResponseHeader("X-Sign-In");
      if (target) return window.location.assign(target);
      box.innerHTML = request.responseText;
      if (request.status === 202) {
        form.reset();
        pollJob(box);
      }
    };
    request.onerror = () => {
      button.disabled = false;
      box.innerHTML = '<p class="alert error">上传失败（网络中断），登记库未作任何改动。请重试。</p>';
    };
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRF-Token", csrf());
    request.setRequestHeader("X-Requested-With", "fetch");
    button.disabled = true;
    request.send(new FormData(form));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-live]").forEach(liveSearch);
  document.querySelectorAll("form[data-upload]").forEach(uploadForm);
  // On a phone the daily chart scrolls sideways: start at the latest days.
  document.querySelectorAll(".chart-scroll").forEach((box) => {
    box.scrollLeft = box.scrollWidth;
  });
  // A job page opened directly keeps itself up to date.
  document.querySelectorAll(".panel > [data-job]").forEach((job) => pollJob(job.parentElement));
});

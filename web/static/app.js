// Hallway: small progressive enhancements. Every page reads fine without this file.
(function () {
  "use strict";

  // "/" focuses the search box, unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    var box = document.getElementById("search-q") || document.getElementById("q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // Copy buttons for citations (hidden until JavaScript can make them work).
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = button.parentNode.querySelector(".copy-status");
      if (!source) return;
      copyText(source.textContent).then(function () {
        button.setAttribute("data-copied", "true");
        if (status) status.textContent = "Copied to the clipboard.";
      }, function () {
        if (status) status.textContent = "Copy failed: select the text and copy it by hand.";
      });
    });
  });

  // Spoilers: click or Enter reveals (hover and focus already do, without JavaScript).
  function reveal(event) {
    var spoiler = event.target.closest && event.target.closest(".spoiler");
    if (!spoiler) return;
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
    spoiler.classList.toggle("is-revealed");
    if (event.type === "keydown") event.preventDefault();
  }
  document.addEventListener("click", reveal);
  document.addEventListener("keydown", reveal);

  // Theme toggle without a reload; the cookie keeps the choice for server-rendered pages too.
  var form = document.querySelector("form.theme");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var root = document.documentElement;
      var next = root.getAttribute("data-theme") === "light" ? "dark" : "light";
      root.setAttribute("data-theme", next);
      document.cookie = "theme=" + next + "; path=/; max-age=31536000; samesite=lax";
      try { window.localStorage.setItem("theme", next); } catch (e) { /* private mode */ }
      var button = form.querySelector("button");
      var other = next === "light" ? "dark" : "light";
      button.textContent = next === "light" ? "☾ Dark" : "☀ Light";
      button.value = other;
      button.setAttribute("aria-label", "Switch to " + other + " theme");
    });
  }

  // "What's new since your last visit": remember the day of each visit in this browser only (nothing is
  // sent anywhere), and offer the digest since the previous one.
  var since = document.getElementById("since-visit");
  if (since) {
    var today = new Date().toISOString().slice(0, 10);
    var previous = null;
    try {
      var day = window.localStorage.getItem("hallway.visitDay");
      previous = day && day !== today ? day : window.localStorage.getItem("hallway.lastVisit");
      if (day && day !== today) window.localStorage.setItem("hallway.lastVisit", day);
      window.localStorage.setItem("hallway.visitDay", today);
    } catch (e) { /* storage disabled: the form still works */ }
    if (previous && /^\d{4}-\d{2}-\d{2}$/.test(previous)) {
      since.value = previous;
      var note = document.querySelector("[data-last-visit]");
      if (note) {
        var link = document.createElement("a");
        link.href = "/digest?since=" + previous;
        link.textContent = "what’s new since " + previous;
        note.textContent = "Your last visit in this browser was on " + previous + ": ";
        note.appendChild(link);
        note.hidden = false;
      }
    }
  }

  // Bring the highlighted message into view on permalink and ?around= pages.
  var focus = document.querySelector(".msg.is-focus");
  if (focus && !window.location.hash) focus.scrollIntoView({ block: "center", behavior: "instant" });
})();

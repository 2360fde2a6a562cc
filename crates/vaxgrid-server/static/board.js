// The observation board, live: each countdown ticks every second, and the
// board and the day's figures are fetched again every 15 s (and when a
// countdown reaches zero) without a reload. A refresh waits while the
// keyboard is on the board, so focus is never pulled from under a hand.
// Without JavaScript the page still shows the minutes left when it loaded.
"use strict";
(function () {
  function counters() { return document.querySelectorAll(".countdown[data-ends]"); }
  if (!counters().length && !document.getElementById("board")) return;
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function nowLabel(el) {
    var holder = el.closest("[data-now-label]");
    return holder ? holder.dataset.nowLabel : "";
  }
  function refresh() {
    var board = document.getElementById("board");
    if (!board || board.contains(document.activeElement)) return;
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var current = document.getElementById("board");
        if (current && current.contains(document.activeElement)) return;
        ["board", "today"].forEach(function (id) {
          var fresh = doc.getElementById(id);
          var old = document.getElementById(id);
          if (fresh && old) old.replaceWith(fresh);
        });
        tick();
      })
      .catch(function () { /* keep the last board; try again later */ });
  }
  function tick() {
    var now = Date.now();
    var reached = false;
    counters().forEach(function (el) {
      var left = Math.ceil((Number(el.dataset.ends) - now) / 1000);
      if (left <= 0) {
        var label = nowLabel(el);
        if (el.textContent !== label) { el.textContent = label; reached = true; }
        var row = el.closest(".board-row");
        if (row) row.classList.add("done");
      } else {
        el.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      }
    });
    return reached;
  }
  tick();
  setInterval(function () { if (tick()) refresh(); }, 1000);
  var board = document.getElementById("board");
  if (board) setInterval(refresh, 1000 * Number(board.dataset.refresh || 15));
})();

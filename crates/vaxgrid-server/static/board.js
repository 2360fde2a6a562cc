// The observation board, live: each countdown ticks every second, and the
// board and the day's figures are fetched again every 15 s without a reload.
// Without JavaScript the page still shows the minutes left when it loaded.
"use strict";
(function () {
  var board = document.getElementById("board");
  if (!board) return;
  var nowLabel = board.dataset.nowLabel;
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown").forEach(function (el) {
      var left = Math.ceil((Number(el.dataset.ends) - now) / 1000);
      if (left <= 0) {
        el.textContent = nowLabel;
        el.closest("tr").classList.add("done");
      } else {
        el.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      }
    });
  }
  function refresh() {
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["board", "today"].forEach(function (id) {
          var fresh = doc.getElementById(id);
          var old = document.getElementById(id);
          if (fresh && old) old.replaceWith(fresh);
        });
        board = document.getElementById("board");
        tick();
      })
      .catch(function () { /* keep the last board; try again later */ });
  }
  tick();
  setInterval(tick, 1000);
  setInterval(refresh, 1000 * Number(board.dataset.refresh || 15));
})();

// Verify a certificate from a QR picture without leaving the page. The
// texts come from the page (data attributes), in the page's language.
"use strict";
(function () {
  var input = document.getElementById("qr");
  var out = document.getElementById("result");
  if (!input || !out) return;
  input.addEventListener("change", function (e) {
    var file = e.target.files[0];
    if (!file) return;
    fetch("/api/v1/dcc/verify-image", {
      method: "POST",
      headers: { "Content-Type": "image/png" },
      body: file,
    })
      .then(function (r) { return r.json(); })
      .then(function (v) {
        out.textContent = v.valid === true
          ? out.dataset.valid + " " + v.dcc.nam.fn + ", " + v.dcc.nam.gn
          : out.dataset.invalid + " " + (v.layer || v.title || "") + " " + (v.reason || v.detail || "");
      })
      .catch(function () { out.textContent = out.dataset.invalid; });
  });
})();

/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  var script = document.currentScript;
  var workerUrl = script && script.getAttribute("data-service-worker");
  if (workerUrl && "serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch(function () {
        /* Without a service worker the site simply works online only. */
      });
    });
  }
})();

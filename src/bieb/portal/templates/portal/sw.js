{% load static %}/* Service worker of de Bibliotheek (served from /sw.js so its scope is the whole site).
 *
 * - Precaches the offline page and the static shell (CSS, scripts, icons).
 * - Pages: network first; without a network the offline page is shown. Pages are never
 *   stored, so nothing personal (Mijn bibliotheek, staff pages) ends up in the cache.
 * - Only GET requests to our own origin are handled; POSTs and the API go straight to the network.
 * - Static files: cache first (their names carry a content hash in production).
 */
"use strict";

const VERSION = "{{ version }}";
const CACHE = "bieb-shell-" + VERSION;
const OFFLINE_URL = "{% url 'portal:offline' %}";
const SHELL = [
  OFFLINE_URL,
  "{% static 'vendor/utrecht/component-library.css' %}",
  "{% static 'portal/bieb.css' %}",
  "{% static 'portal/app.js' %}",
  "{% static 'vendor/htmx/htmx.min.js' %}",
  "{% static 'portal/icons/icon-192.png' %}",
  "{% static 'portal/icons/favicon-32.png' %}",
];
const STATIC_PREFIX = "{% get_static_prefix %}";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // credentials "omit": the cached offline page is the anonymous one.
      cache.addAll(SHELL.map((url) => new Request(url, { credentials: "omit" })))
    ).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) =>
      Promise.all(keys.filter((key) => key.startsWith("bieb-") && key !== CACHE).map((key) => caches.delete(key)))
    ).then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(() =>
        caches.match(OFFLINE_URL).then((cached) => cached || Response.error())
      )
    );
    return;
  }

  if (url.pathname.startsWith(STATIC_PREFIX)) {
    event.respondWith(
      caches.match(request).then((cached) => {
        if (cached) return cached;
        return fetch(request).then((response) => {
          if (response.ok && response.type === "basic") {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        });
      })
    );
  }
});

// SPDX-License-Identifier: MIT
// js-hello: the smallest JavaScript app. GET / answers text; GET /page is HTML, where the
// runtime injects window.__env__ (PUBLIC_GREETING, from the manifest's env).
export default {
  fetch(req: Request): Response {
    const url = new URL(req.url);
    if (url.pathname === "/page") {
      return new Response("<!doctype html><html><head><title>js-hello</title></head><body>hi</body></html>", {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    return new Response(`hello from ${process.versions.bun ? "bun" : "node"}\n`);
  },
  onIdle() {
    console.error("js-hello: idle");
  },
};

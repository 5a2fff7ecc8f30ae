// SPDX-License-Identifier: MIT
// js-stream: GET /?n=5 streams n lines, one every 100 ms; POST echoes the body as it arrives.
export default {
  fetch(req) {
    if (req.method === "POST") return new Response(req.body, { headers: { "content-type": "application/octet-stream" } });
    const n = Number(new URL(req.url).searchParams.get("n") ?? 5);
    let i = 0;
    const body = new ReadableStream({
      async pull(controller) {
        if (i >= n) return controller.close();
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        controller.enqueue(new TextEncoder().encode(`line ${++i}\n`));
      },
    });
    return new Response(body);
  },
};

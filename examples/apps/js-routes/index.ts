// SPDX-License-Identifier: MIT
// js-routes: routes with params, per-method handlers, a static Response and a fetch fallback.
type Req = Request & { params: Record<string, string> };
const items = new Map<string, string>();

export default {
  routes: {
    "/health": new Response("ok\n"),
    "/users/:id": (req: Req) => Response.json({ id: req.params.id }),
    "/items/:name": {
      GET: (req: Req) =>
        items.has(req.params.name)
          ? new Response(items.get(req.params.name))
          : new Response("not found\n", { status: 404 }),
      PUT: async (req: Req) => {
        items.set(req.params.name, await req.text());
        return new Response(null, { status: 204 });
      },
    },
  },
  fetch(req: Request): Response {
    return new Response(`fallback ${new URL(req.url).pathname}\n`, { status: 404 });
  },
};

// SPDX-License-Identifier: MIT
// The `routes` of a Bun-runtime app: path patterns (`/users/:id`, `/files/*`, `*`) mapped to a
// handler, a per-method object of handlers, or a static Response (or Blob); `req.params`
// carries the matched parameters and `fetch` is the fallback. First match in declaration
// order wins, as in the Bun runtime's router.
function compile(pattern) {
  if (pattern === '*' || pattern === '/*') return { re: /^.*$/s, names: [] };
  const names = [];
  let src = '^';
  for (const part of pattern.split('/').slice(1)) {
    src += '/';
    if (part === '*') {
      src += '.*';
    } else if (part.startsWith(':')) {
      const optional = part.endsWith('?');
      names.push(optional ? part.slice(1, -1) : part.slice(1));
      src = optional ? src.slice(0, -1) + '(?:/([^/]*))?' : src + '([^/]+)';
    } else {
      src += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return { re: new RegExp(src + '/?$', 's'), names };
}

function decode(value) {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function respondWith(value) {
  if (value instanceof Response) return () => value.clone();
  if (typeof Blob !== 'undefined' && value instanceof Blob) return () => new Response(value);
  return null;
}

// A fetch(req) built from app.routes (and app.fetch as the fallback).
export function buildRouter(app) {
  const table = [];
  for (const [pattern, value] of Object.entries(app.routes)) {
    const { re, names } = compile(pattern);
    const fixed = respondWith(value);
    if (fixed) {
      table.push({ re, names, any: fixed });
    } else if (typeof value === 'function') {
      table.push({ re, names, any: value });
    } else if (value && typeof value === 'object') {
      const methods = {};
      for (const [method, fn] of Object.entries(value)) {
        methods[method.toUpperCase()] = respondWith(fn) ?? fn;
      }
      table.push({ re, names, methods });
    }
  }
  const fallback = typeof app.fetch === 'function' ? app.fetch.bind(app) : null;
  return async function route(req, path) {
    for (const entry of table) {
      const m = entry.re.exec(path);
      if (!m) continue;
      let handler = entry.any;
      if (entry.methods) {
        handler = entry.methods[req.method] ?? (req.method === 'HEAD' ? entry.methods.GET : undefined);
        if (!handler) continue;
      }
      const params = {};
      entry.names.forEach((name, i) => {
        if (m[i + 1] !== undefined) params[name] = decode(m[i + 1]);
      });
      req.params = params;
      return handler(req);
    }
    if (fallback) return fallback(req);
    return new Response('404 Not Found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  };
}

// SPDX-License-Identifier: MIT
// What the Bun runtime does to HTML responses: `<base href>` after `<head>` (injectBase) and
// `window.__env__` with the app env matching envPrefix before `</head>`, escaped the same way.
export function escapeHtml(value) {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\\/g, '\\\\');
}

// publicEnv: an object of the variables to expose, or null.
export function injectHtml(text, { base, injectBase, publicEnv }) {
  if (injectBase && base !== undefined) {
    const href = escapeHtml(base === '/' || base === '' ? '/' : `${base}/`);
    text = text.replace('<head>', `<head><base href="${href}" />`);
  }
  if (publicEnv) {
    const safeJson = JSON.stringify(publicEnv).replace(/<\/script>/gi, '<\\/script>');
    text = text.replace('</head>', `<script>window.__env__=${safeJson};</script></head>`);
  }
  return text;
}

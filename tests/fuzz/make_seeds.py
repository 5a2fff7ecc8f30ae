#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the seed corpus of every fuzz target into corpus/<target>/ (rerun after a format change).
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# --- protocol heads (worker/protocol/protocol.cpp: little-endian, u32 length + bytes) ---
def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack('<I', len(x)) + x


def headers(hs):
    return struct.pack('<I', len(hs)) + b''.join(s(k) + s(v) for k, v in hs)


def request_head(method, target, path, query, base, rid, hs, length, sent):
    return (s(method) + s(target) + s(path) + s(query) + s(base) + s(rid) + headers(hs) +
            struct.pack('<qq', length, sent))


def response_head(status, hs, length, recv=0, handler=0, sent=0):
    return struct.pack('<H', status) + headers(hs) + struct.pack('<qqqq', length, recv, handler, sent)


def ready(kind, threads, conc):
    return s(kind) + struct.pack('<II', threads, conc)


put('proto_request', 'get', request_head('GET', '/app/x?y=1', '/x', 'y=1', '/app', 'req-1',
                                         [('host', 'localhost'), ('accept', '*/*')], 0, 123456789))
put('proto_request', 'post_chunked', request_head('POST', '/app@^1.0.0/upload', '/upload', '', '/app@^1.0.0',
                                                  'abc', [('transfer-encoding', 'chunked')], -1, 0))
put('proto_request', 'empty_fields', request_head('', '', '', '', '', '', [], -1, 0))
put('proto_response', 'ok', response_head(200, [('content-type', 'text/plain')], 5, 10, 20, 30))
put('proto_response', 'no_headers', response_head(204, [], 0))
put('proto_response', 'chunked', response_head(500, [('x-a', '1'), ('x-b', ''), ('set-cookie', 'k=v')], -1))
put('proto_ready', 'so', ready('so', 4, 100))
put('proto_ready', 'static', ready('static', 1, 1))
put('proto_ready', 'exec', ready('exec', 0, 0))

# --- shm frames (see fuzz_shm_frames.cpp for the input layout) ---
FRAME_MAGIC = 0x46524d31
GEN = 7
CAP = 4096


def frame(kind, flags, rid, head=b'', body=b'', gen=GEN):
    h = struct.pack('<IHHIIQII', FRAME_MAGIC, kind, flags, gen, len(head), rid, len(body), 0)
    f = h + head + body
    return f + b'\0' * (-len(f) % 8)


def shm(write_pos, read_pos, mode, ring, second_write=0):
    return struct.pack('<QQBQ', write_pos, read_pos, mode, second_write) + ring


resp = frame(4, 0, 1, response_head(200, [('content-type', 'text/plain')], 5), b'hello')
put('shm_frames', 'one_response', shm(len(resp), 0, 0, resp))
three = frame(1, 0, 0, ready('so', 4, 100)) + resp + frame(5, 0, 2, b'handler threw')
put('shm_frames', 'three_frames', shm(len(three), 0, 0, three))
put('shm_frames', 'second_write', shm(len(resp), 0, 4, three, second_write=len(three)))
# Wrap: a pad frame fills the tail from 4032, the response follows at offset 0.
pad = struct.pack('<IHHIIQII', FRAME_MAGIC, 0xffff, 0, GEN, 0, 0, 64 - 32, 0)
ring = bytearray(CAP)
ring[0:len(resp)] = resp
ring[4032:4032 + len(pad)] = pad
put('shm_frames', 'wrap_pad', shm(CAP + len(resp), 4032, 0, bytes(ring)))
# Short tail (< header): skipped without a pad.
put('shm_frames', 'short_tail', shm(CAP + len(resp), CAP - 16, 0, bytes(ring[:len(resp)])))
# A chunked message for receiveMessage (mode bit0, max_body 2^15).
chunked = frame(4, 1, 9, response_head(200, [], 150), b'a' * 100) + frame(0xfffe, 0, 9, b'', b'b' * 50)
put('shm_frames', 'chunked_message', shm(len(chunked), 0, 0xF1, chunked))
put('shm_frames', 'empty', shm(0, 0, 0, b''))
put('shm_frames', 'stale_generation', shm(len(resp), 0, 0, frame(4, 0, 1, b'', b'x', gen=6)))

# --- router ---
for i, t in enumerate(['/app/x?y=1', '/app@^1.0.0/a/b', '/app@%5E1.0.0/', '/_/health', '/.well-known/x', '/',
                       '//x', '/app/%2e%2e/etc', '/app@latest', '/a@%3E%3D1%20%3C2/x#frag', 'http://x/y',
                       '/app/..%2f..%2fx', '/app%2e/x', '/app@1.x/x?q=%00', '/app', '/app/x%5c..%5cy',
                       '/my-app.v2@~1.2/a%20b?x=%41']):
    put('router_path', 'target%02d' % i, t)
for i, t in enumerate(['^1.2.0\n1.0.0 1.2.3 1.3.0-beta.1 2.0.0', '~1.2\n1.2.0 1.2.9 1.3.0',
                       '>=1.2.3-beta.1 <2\n1.2.3-beta.2 1.2.4-beta 1.5.0', '1.x || >=2.5.0\n1.9.9 2.4.0 2.5.1',
                       '1.2.3 - 2.3.4\n1.2.2 2.3.4 2.3.5', 'latest\n1.0.0 2.0.0-rc.1', '*\n0.0.1',
                       '1.0.0\n1.0.0+build.5 1.0.0', '^0.0.3\n0.0.3 0.0.4', 'v1.2.3\n1.2.3',
                       '=1.2.3-alpha.1.beta\n1.2.3-alpha.1.beta 1.2.3-alpha.1.0', '> 1.0 <= 2\n1.0.5 2.0.0 2.0.1',
                       '\n1.0.0-rc.1 0.9.0-a']):
    put('router_semver', 'range%02d' % i, t)
for i, t in enumerate(['30s', '1.5', '500ms', '5m', '1h', '2d', '1w', '1y', '10 minutes', '10mb', '1.5mb', '1024',
                       '1gb', '12 KB', '0', '-1', '3 msecs', '2 hrs', '1t']):
    put('router_units', 'value%02d' % i, t)
put('router_manifest', 'full', '''name: hello
version: 1.2.3
entrypoint: app.so
env:
  GREETING: hi
  PUBLIC_X: "1"
timeout: 30s
ttl: 5m
idleTimeout: 60
maxRequests: 1000
maxBodySize: 10mb
lowMemory: false
injectBase: true
publicRoutes:
  - /health
  - /public/*
concurrency: 50
threads: 2
envPrefix: [PUBLIC_, VITE_]
visibility: protected
autoInstall: false
''')
put('router_manifest', 'route_map', '''publicRoutes:
  GET: [/a, /b]
  POST: /c
  ALL: /d
ttl: 0
''')
put('router_manifest', 'empty', '')
put('router_manifest', 'flow', '{timeout: 1.5, maxBodySize: 1048576, env: {A: b}, unknownKey: 3}')
put('router_manifest', 'bad', 'timeout: abc\nmaxRequests: 0\n')
put('router_manifest', 'anchors', 'base: &b {timeout: 2s}\nenv: *b\nttl: [1, 2]\n')

# --- http ---
http = {
    'get': 'GET /app/x?y=1 HTTP/1.1\r\nHost: localhost\r\n\r\n',
    'post_length': 'POST /app/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world',
    'post_chunked': 'POST /app/c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
                    '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n',
    'pipelined': 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n',
    'expect_continue': 'PUT /app/x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
    'http10': 'GET /stream HTTP/1.0\r\n\r\n',
    'stream': 'GET /app/stream HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123\r\n\r\n',
    'head': 'HEAD /app/x HTTP/1.1\r\nHost: a\r\n\r\n',
    'both_lengths': 'POST /x HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n',
    'bad_chunk': 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n',
    'big_header': 'GET /x HTTP/1.1\r\nX-Big: ' + 'a' * 9000 + '\r\n\r\n',
    'too_large_body': 'POST /x HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nabc',
    'absolute_form': 'GET http://example.com/app/x HTTP/1.1\r\nHost: example.com\r\n\r\n',
    'garbage': '\x00\x01\x02 HTTP/9.9\r\n\r\n',
}
for name, text in http.items():
    put('http_request', name, text)

# SPDX-License-Identifier: MIT
# py-wsgi: a plain WSGI callable (no framework); gunicorn serves it on $BUNTIME_SOCKET.
import json


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        body = b"hello from wsgi\n"
        start_response("200 OK", [("content-type", "text/plain; charset=utf-8"), ("content-length", str(len(body)))])
        return [body]
    if path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = environ["wsgi.input"].read(length) if length else b""
        body = json.dumps({"bytes": len(data), "method": environ["REQUEST_METHOD"]}).encode()
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
        return [body]
    body = b"not found\n"
    start_response("404 Not Found", [("content-type", "text/plain; charset=utf-8"), ("content-length", str(len(body)))])
    return [body]

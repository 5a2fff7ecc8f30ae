# SPDX-License-Identifier: MIT
# py-hello: an HTTP server from the standard library on the unix socket $BUNTIME_SOCKET
# (or on 127.0.0.1:$PORT when the manifest says `listen: tcp`).
import json
import os
import socketserver
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the worker reuses its connections

    def address_string(self):
        return "buntime"  # a unix socket peer has no (host, port)

    def log_message(self, fmt, *args):
        pass  # the supervisor writes the access log

    def reply(self, status, body, ctype="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        # Head and body in one write: two small writes on TCP meet Nagle and delayed ACKs
        # (about 40 ms a response on a kept-alive connection).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/":
            self.reply(200, b"hello from python\n")
        elif path == "/env":
            names = ["BUNTIME_SOCKET", "PORT", "GREETING"]
            self.reply(200, json.dumps({n: os.environ.get(n) for n in names}).encode(), "application/json")
        elif path == "/headers":
            self.reply(200, json.dumps(dict(self.headers.items())).encode(), "application/json")
        elif path == "/stream":
            # Chunked: one line every 100 ms, so a client sees the first before the last.
            self.send_response(200)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for i in range(5):
                line = f"line {i}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/big":
            size = int(query.partition("=")[2] or 10 * 1024 * 1024)
            self.reply(200, b"x" * size, "application/octet-stream")
        elif path == "/sleep":
            time.sleep(float(query.partition("=")[2] or 1))
            self.reply(200, b"slept\n")
        elif path == "/log":
            print("stdout line from the app", flush=True)
            sys.stderr.buffer.write(b"stderr bytes \xff\xfe not utf-8\n")
            sys.stderr.flush()
            self.reply(200, b"logged\n")
        elif path == "/pid":
            self.reply(200, str(os.getpid()).encode())
        elif path == "/spawn":
            # Two descendants that sleep: a child, and an orphan whose parent (sh) exits at once.
            # ?sleep=N: then write their pids to spawned.pids and sleep N seconds before answering.
            child = subprocess.Popen(["sleep", "300"])
            orphan = subprocess.run(["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True)
            pids = f"{child.pid} {orphan.stdout.strip()}"
            if query.startswith("sleep="):
                with open("spawned.pids", "w") as f:
                    f.write(pids)
                time.sleep(float(query[6:]))
            self.reply(200, pids.encode())
        elif path == "/exit":
            os._exit(3)
        elif path == "/chunked":
            # ?n=COUNT chunks of 1000 bytes, with a chunk extension and a trailer.
            n = int(query.partition("=")[2] or 100)
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for i in range(n):
                self.wfile.write(b"3e8;ext=1\r\n" + bytes([97 + i % 26]) * 1000 + b"\r\n")
            self.wfile.write(b"0\r\nx-trailer: yes\r\n\r\n")
        elif path == "/conn":
            # Which connection carried this request (the handler lives as long as its connection).
            self.reply(200, str(id(self)).encode())
        elif path == "/quietclose":
            # Answers as kept alive, then closes the connection (as an idle timeout would).
            self.reply(200, b"closing quietly\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/cuthead":
            # Half a response head, then the connection closes.
            self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-le")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/garbage":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/partial":
            # A head announcing 1000 bytes, 10 of them, then the app dies.
            self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789")
            self.wfile.flush()
            time.sleep(0.3)
            os._exit(3)
        else:
            self.reply(404, b"not found\n")

    do_HEAD = do_GET

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        remaining, total = length, 0
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            total += len(chunk)
            remaining -= len(chunk)
        self.reply(200, json.dumps({"bytes": total, "method": "POST"}).encode(), "application/json")


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("buntime", 0)


def main():
    path = os.environ.get("BUNTIME_SOCKET")
    if path:
        server = UnixServer(path, Handler)
    else:
        ThreadingHTTPServer.daemon_threads = True
        ThreadingHTTPServer.request_queue_size = 128
        server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    print(f"py-hello listening on {path or os.environ['PORT']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

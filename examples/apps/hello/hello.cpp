// SPDX-License-Identifier: MIT
// hello: answers "Hello from Buntime" inline on the worker's I/O thread (async style).
#include <buntime/app.h>

struct Hello {
    void handle(buntime::app::Request, buntime::app::Response res) {
        res.header("content-type", "text/plain; charset=utf-8");
        res.end("Hello from Buntime");
    }
};

BUNTIME_ASYNC_APP(Hello)

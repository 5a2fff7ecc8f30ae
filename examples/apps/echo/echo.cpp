// SPDX-License-Identifier: MIT
// echo: answers {"method": ..., "length": <request body length>}. It never blocks, so it uses
// the async style and runs inline on the worker's I/O thread (no hand-off to a handler thread).
#include <buntime/app.h>

#include <string>

namespace {

std::string jsonString(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\u00";
            out.push_back(kHex[(c >> 4) & 0xf]);
            out.push_back(kHex[c & 0xf]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

}  // namespace

struct Echo {
    void handle(buntime::app::Request req, buntime::app::Response res) {
        std::string json =
            "{\"method\":" + jsonString(req.method()) + ",\"length\":" + std::to_string(req.body().size()) + "}";
        res.header("content-type", "application/json");
        res.end(json);
    }
};

BUNTIME_ASYNC_APP(Echo)

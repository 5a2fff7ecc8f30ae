// SPDX-License-Identifier: MIT
// manifest.yaml → WorkerConfig: yaml-cpp exceptions are caught here and become Error values.
#include "buntime/router/manifest.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include "buntime/base/ascii.h"
#include "buntime/router/semver.h"
#include "buntime/router/suggest.h"
#include "buntime/router/units.h"

namespace buntime::router {

namespace {

// Thrown only inside this file to unwind out of the key handlers; caught in parseManifest.
struct KeyError {
    std::string key;
    std::string what;
};

const std::string& scalar(const YAML::Node& n, const std::string& key, std::string_view expected) {
    if (!n.IsScalar()) throw KeyError{key, "expected " + std::string(expected)};
    return n.Scalar();
}

std::string stringValue(const YAML::Node& n, const std::string& key) {
    const std::string& s = scalar(n, key, "a string");
    if (s.empty()) throw KeyError{key, "must not be empty"};
    return s;
}

// true/false and, as the seed's boolean(), "1"/"0". yes/no/on/off (YAML 1.1) read as meant,
// with a warning: the seed (YAML 1.2) reads them as strings, i.e. false.
bool boolValue(const YAML::Node& n, const std::string& key, std::vector<std::string>& warnings,
               std::string_view source) {
    std::string s = base::toLower(scalar(n, key, "a boolean"));
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
    const bool yes = s == "yes" || s == "on";
    if (yes || s == "no" || s == "off") {
        warnings.push_back(std::string(source) + ": key '" + key + "': \"" + n.Scalar() + "\" read as " +
                           (yes ? "true" : "false") + " (the seed runtime reads it as false; write true or false)");
        return yes;
    }
    throw KeyError{key, "invalid boolean \"" + n.Scalar() + '"'};
}

std::uint64_t countValue(const YAML::Node& n, const std::string& key, std::uint64_t min, std::uint64_t max) {
    const std::string& s = scalar(n, key, "an integer");
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size())
        throw KeyError{key, "invalid integer \"" + s + '"'};
    if (v < min || v > max)
        throw KeyError{key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + s};
    return v;
}

// A plain number is seconds; a quoted bare number ("30") is milliseconds, as the seed's
// ms("30") reads it (with a warning: it is rarely what was meant).
std::chrono::milliseconds durationValue(const YAML::Node& n, const std::string& key, std::vector<std::string>& warnings,
                                        std::string_view source) {
    const std::string& text = scalar(n, key, "a duration");
    auto d = parseDuration(text);
    if (!d) throw KeyError{key, d.error().message};
    const std::string_view t = base::trim(text);
    const bool bare_number = !t.empty() && t.find_first_not_of("0123456789.") == std::string_view::npos;
    if (n.Tag() == "!" && bare_number) {
        auto ms = parseDuration(std::string(t) + "ms");
        if (!ms) throw KeyError{key, ms.error().message};
        warnings.push_back(std::string(source) + ": key '" + key + "': quoted \"" + text +
                           "\" is milliseconds, as in the seed runtime; write " + std::string(t) + " or " +
                           std::string(t) + "s for seconds");
        return *ms;
    }
    return *d;
}

void parseEnv(const YAML::Node& n, WorkerConfig& cfg) {
    if (!n.IsMap()) throw KeyError{"env", "expected a map of NAME: value"};
    for (const auto& kv : n) {
        const YAML::Node k = kv.first;
        const YAML::Node v = kv.second;
        if (!k.IsScalar()) throw KeyError{"env", "variable names must be strings"};
        const std::string name = k.Scalar();
        if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos)
            throw KeyError{"env", "invalid variable name \"" + name + '"'};
        if (v.IsNull()) {
            cfg.env[name] = "";
        } else if (v.IsScalar()) {
            if (v.Scalar().find('\0') != std::string::npos) throw KeyError{"env", "value of " + name + " contains NUL"};
            cfg.env[name] = v.Scalar();
        } else {
            throw KeyError{"env", "value of " + name + " must be a scalar"};
        }
    }
}

void addRoute(const YAML::Node& n, std::string method, WorkerConfig& cfg) {
    std::string path = stringValue(n, "publicRoutes");
    cfg.public_routes.push_back(PublicRoute{std::move(method), std::move(path)});
}

void parsePublicRoutes(const YAML::Node& n, WorkerConfig& cfg) {
    if (n.IsSequence()) {
        for (const auto& item : n) addRoute(item, "", cfg);
    } else if (n.IsMap()) {
        for (const auto& kv : n) {
            const YAML::Node k = kv.first;
            const YAML::Node v = kv.second;
            std::string method = base::toUpper(scalar(k, "publicRoutes", "a method name"));
            if (method == "ALL" || method == "*") method.clear();
            if (v.IsSequence()) {
                for (const auto& item : v) addRoute(item, method, cfg);
            } else {
                addRoute(v, method, cfg);
            }
        }
    } else if (n.IsScalar()) {
        addRoute(n, "", cfg);
    } else {
        throw KeyError{"publicRoutes", "expected a list of paths or a map of METHOD: paths"};
    }
}

// Splits like a POSIX shell (quotes, backslash escapes), without expansions or a shell.
std::vector<std::string> splitCommand(const std::string& text, const std::string& key) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quote == '\'') {
            if (c == '\'')
                quote = 0;
            else
                word += c;
        } else if (quote == '"') {
            if (c == '"')
                quote = 0;
            else if (c == '\\' && i + 1 < text.size() &&
                     std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos)
                word += text[++i];
            else
                word += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == '\\') {
            if (i + 1 >= text.size()) throw KeyError{key, "trailing backslash"};
            word += text[++i];
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (quote != 0) throw KeyError{key, "unterminated quote"};
    if (in_word) words.push_back(std::move(word));
    return words;
}

void parseCommand(const YAML::Node& n, WorkerConfig& cfg) {
    cfg.command.clear();
    if (n.IsScalar()) {
        cfg.command = splitCommand(n.Scalar(), "command");
    } else if (n.IsSequence()) {
        for (const auto& item : n) cfg.command.push_back(scalar(item, "command", "a list of strings"));
    } else {
        throw KeyError{"command", "expected a list of strings or a command line"};
    }
    if (cfg.command.empty() || cfg.command.front().empty()) throw KeyError{"command", "must name a program"};
    for (const auto& arg : cfg.command)
        if (arg.find('\0') != std::string::npos) throw KeyError{"command", "arguments must not contain NUL"};
}

// A `hosts` entry: a DNS name ("tools.example.com", an IP literal) or "*." + a DNS name;
// lowercased, a trailing dot dropped. No port, no other '*'.
std::string hostPattern(const YAML::Node& n) {
    std::string h = base::toLower(stringValue(n, "hosts"));
    if (h.size() > 1 && h.back() == '.') h.pop_back();
    std::string_view name = h;
    if (name.starts_with("*.")) name.remove_prefix(2);
    bool ok = !name.empty() && name.size() <= 253;
    for (std::size_t start = 0; ok && start <= name.size();) {
        std::size_t end = name.find('.', start);
        if (end == std::string_view::npos) end = name.size();
        std::string_view label = name.substr(start, end - start);
        ok = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
             label.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") == std::string_view::npos;
        start = end + 1;
    }
    if (!ok)
        throw KeyError{"hosts", "invalid host \"" + n.Scalar() +
                                    "\" (a DNS name such as tools.example.com, or *.example.com; no port)"};
    return h;
}

void parseHosts(const YAML::Node& n, WorkerConfig& cfg) {
    cfg.hosts.clear();
    auto add = [&](const YAML::Node& item) {
        std::string h = hostPattern(item);
        if (std::find(cfg.hosts.begin(), cfg.hosts.end(), h) == cfg.hosts.end()) cfg.hosts.push_back(std::move(h));
    };
    if (n.IsScalar()) {
        add(n);
    } else if (n.IsSequence()) {
        for (const auto& item : n) add(item);
    } else {
        throw KeyError{"hosts", "expected a list of host names"};
    }
}

std::string unknownKeyWarning(std::string_view source, const std::string& key) {
    std::string w = std::string(source) + ": unknown key '" + key + "' (ignored)";
    if (auto s = didYouMean(key, kManifestKeys); !s.empty()) w += "; did you mean '" + s + "'?";
    return w;
}

bool isKnownKey(std::string_view key) {
    return std::find(std::begin(kManifestKeys), std::end(kManifestKeys), key) != std::end(kManifestKeys);
}

void applyKey(const std::string& key, const YAML::Node& v, WorkerConfig& cfg, std::vector<std::string>& warnings,
              std::string_view source) {
    if (key == "name") {
        cfg.name = stringValue(v, key);
    } else if (key == "version") {
        // Informational, as in the seed: a version that is not semver is kept out, never fatal.
        const std::string& text = scalar(v, key, "a string");
        if (auto parsed = Version::parse(text); parsed)
            cfg.version = text;
        else
            warnings.push_back(std::string(source) + ": key 'version': " + parsed.error().message +
                               " (informational; ignored)");
    } else if (key == "entrypoint") {
        cfg.entrypoint = stringValue(v, key);
    } else if (key == "env") {
        parseEnv(v, cfg);
    } else if (key == "timeout") {
        cfg.timeout = durationValue(v, key, warnings, source);
        if (cfg.timeout.count() == 0) throw KeyError{key, "must be greater than 0"};
    } else if (key == "startTimeout") {
        cfg.start_timeout = durationValue(v, key, warnings, source);
        if (cfg.start_timeout.count() == 0) throw KeyError{key, "must be greater than 0"};
    } else if (key == "ttl") {
        cfg.ttl = durationValue(v, key, warnings, source);
    } else if (key == "idleTimeout") {
        cfg.idle_timeout = durationValue(v, key, warnings, source);
    } else if (key == "maxRequests") {
        cfg.max_requests = countValue(v, key, 1, UINT64_MAX);
    } else if (key == "maxBodySize") {
        auto size = parseSize(scalar(v, key, "a size"));
        if (!size) throw KeyError{key, size.error().message};
        if (*size == 0) throw KeyError{key, "must be greater than 0"};
        if (*size > kMaxBodySizeCeiling) throw KeyError{key, "\"" + v.Scalar() + "\" exceeds the 100mb ceiling"};
        cfg.max_body_size = *size;
    } else if (key == "maxMemory") {
        auto size = parseSize(scalar(v, key, "a size"));
        if (!size) throw KeyError{key, size.error().message};
        if (*size != 0 && *size < kMinMaxMemory)
            throw KeyError{key, "\"" + v.Scalar() + "\" is below the 16mb minimum (0 means no cap)"};
        cfg.max_memory = *size;
    } else if (key == "cpuWeight") {
        cfg.cpu_weight = static_cast<std::uint32_t>(countValue(v, key, 1, 10'000));
    } else if (key == "lowMemory") {
        cfg.low_memory = boolValue(v, key, warnings, source);
    } else if (key == "injectBase") {
        cfg.inject_base = boolValue(v, key, warnings, source);
    } else if (key == "publicRoutes") {
        parsePublicRoutes(v, cfg);
    } else if (key == "concurrency") {
        cfg.concurrency = static_cast<std::uint32_t>(countValue(v, key, 1, 1'000'000));
    } else if (key == "threads") {
        cfg.threads = static_cast<std::uint32_t>(countValue(v, key, 1, 1024));
    } else if (key == "envPrefix") {
        cfg.env_prefix.clear();
        if (v.IsScalar()) {
            cfg.env_prefix.push_back(stringValue(v, key));
        } else if (v.IsSequence()) {
            for (const auto& item : v) cfg.env_prefix.push_back(stringValue(item, key));
        } else {
            throw KeyError{key, "expected a list of prefixes"};
        }
    } else if (key == "visibility") {
        cfg.visibility = stringValue(v, key);
        if (cfg.visibility != "public" && cfg.visibility != "protected" && cfg.visibility != "internal")
            throw KeyError{key, "expected public, protected or internal, got \"" + cfg.visibility + '"'};
    } else if (key == "autoInstall") {
        cfg.auto_install = boolValue(v, key, warnings, source);
    } else if (key == "command") {
        parseCommand(v, cfg);
    } else if (key == "listen") {
        cfg.listen = stringValue(v, key);
        if (cfg.listen != "unix" && cfg.listen != "tcp")
            throw KeyError{key, "expected unix or tcp, got \"" + cfg.listen + '"'};
    } else if (key == "spawn") {
        cfg.spawn = stringValue(v, key);
        if (cfg.spawn != "fork" && cfg.spawn != "exec")
            throw KeyError{key, "expected fork or exec, got \"" + cfg.spawn + '"'};
    } else if (key == "runtime") {
        cfg.runtime = stringValue(v, key);
        if (cfg.runtime != "bun" && cfg.runtime != "node")
            throw KeyError{key, "expected bun or node, got \"" + cfg.runtime + '"'};
    } else if (key == "hosts") {
        parseHosts(v, cfg);
    } else {
        warnings.push_back(unknownKeyWarning(source, key));
    }
}

// Walks the YAML events of the first document (no tree is built) and stops with a
// LimitError as soon as the document holds more than kMaxManifestNodes nodes once every
// alias is expanded, or more than kMaxManifestAliases aliases: what the key handlers and
// the admin API's JSON would otherwise copy out ("billion laughs").
struct LimitError {
    std::string key;
    std::string what;
    YAML::Mark mark;
};

class NodeCounter final : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, nullptr); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        if (++aliases_ > kMaxManifestAliases)
            throw LimitError{key_, "more than " + std::to_string(kMaxManifestAliases) + " aliases", mark};
        add(mark, anchor < sizes_.size() ? sizes_[anchor] : 1);
        afterValue();
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& v) override {
        leaf(mark, anchor, &v);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(mark, anchor, false);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(mark, anchor, true);
    }
    void OnMapEnd() override { close(); }

private:
    struct Open {
        YAML::anchor_t anchor;
        std::uint64_t size;  // this collection and everything in it, aliases expanded
        bool map;
        std::uint64_t items = 0;
    };
    // Adds n expanded nodes to the innermost open collection (and so to the total).
    void add(const YAML::Mark& mark, std::uint64_t n) {
        total_ += n;
        if (total_ > kMaxManifestNodes)
            throw LimitError{key_, "more than " + std::to_string(kMaxManifestNodes) + " YAML nodes (aliases expanded)",
                             mark};
        if (!open_.empty()) open_.back().size += n;
    }
    void remember(YAML::anchor_t anchor, std::uint64_t size) {
        if (anchor == YAML::NullAnchor) return;
        if (sizes_.size() <= anchor) sizes_.resize(anchor + 1, 1);
        sizes_[anchor] = size;
    }
    // Tracks the top-level key being read, to name it in a limit error.
    void afterValue() {
        if (open_.size() != 1 || !open_.back().map) return;
        ++open_.back().items;
    }
    void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string* value) {
        if (open_.size() == 1 && open_.back().map && open_.back().items % 2 == 0) key_ = value ? *value : "";
        remember(anchor, 1);
        add(mark, 1);
        afterValue();
    }
    void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
        add(mark, 1);
        open_.push_back(Open{anchor, 1, map});
    }
    void close() {
        if (open_.empty()) return;
        Open done = open_.back();
        open_.pop_back();
        remember(done.anchor, done.size);
        if (!open_.empty()) open_.back().size += done.size - 1;  // the 1 was added at open()
        afterValue();
    }

    std::vector<Open> open_;
    std::vector<std::uint64_t> sizes_;  // expanded size per anchor id
    std::uint64_t total_ = 0;
    std::uint64_t aliases_ = 0;
    std::string key_;
};

}  // namespace

Result<Manifest> parseManifest(std::string_view yaml, std::string_view source) {
    Manifest m;
    if (yaml.size() > kMaxManifestBytes)
        return Error{ErrorCode::BadManifest,
                     std::string(source) + ": manifest is " + std::to_string(yaml.size()) + " bytes; the limit is " +
                         std::to_string(kMaxManifestBytes) + " (1 MiB)",
                     std::string(source),
                     {}};
    YAML::Node root;
    try {
        std::istringstream in{std::string(yaml)};
        YAML::Parser parser(in);
        NodeCounter counter;
        parser.HandleNextDocument(counter);
        root = YAML::Load(std::string(yaml));
    } catch (const LimitError& e) {
        std::ostringstream msg;
        msg << source << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": ";
        if (!e.key.empty()) msg << "key '" << e.key << "': ";
        msg << e.what << "; a manifest may hold at most " << kMaxManifestNodes << " nodes and " << kMaxManifestAliases
            << " aliases";
        return Error{ErrorCode::BadManifest, msg.str(), std::string(source), e.key, e.mark.line + 1, e.what};
    } catch (const YAML::Exception& e) {
        std::ostringstream msg;
        msg << source << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": YAML syntax error: " << e.msg;
        return Error{
            ErrorCode::Syntax, msg.str(), std::string(source), {}, e.mark.line + 1, "YAML syntax error: " + e.msg};
    } catch (const std::exception& e) {  // bad_alloc, length_error: a manifest never takes the process down
        return Error{
            ErrorCode::BadManifest, std::string(source) + ": cannot parse: " + e.what(), std::string(source), {}};
    }
    if (!root || root.IsNull()) return m;
    if (!root.IsMap())
        return Error{ErrorCode::BadManifest,
                     std::string(source) + ": expected a map of keys at the top level",
                     std::string(source),
                     {}};
    std::string key;
    int line = 0;
    const std::string prefix = std::string(source) + ": ";
    try {
        for (const auto& kv : root) {
            const YAML::Node k = kv.first;
            const YAML::Node v = kv.second;
            line = k.Mark().line + 1;
            if (!k.IsScalar())
                return Error{ErrorCode::BadManifest, prefix + "keys must be strings", std::string(source), {}, line,
                             "keys must be strings"};
            key = k.Scalar();
            m.lines.emplace(key, line);
            const std::size_t before = m.warnings.size();
            if (!v.IsNull())
                applyKey(key, v, m.config, m.warnings, source);
            else if (!isKnownKey(key))  // "timeout:" with no value keeps the default; a typo still warns
                m.warnings.push_back(unknownKeyWarning(source, key));
            for (std::size_t i = before; i < m.warnings.size(); ++i) {
                std::string_view text = m.warnings[i];
                if (text.starts_with(prefix)) text.remove_prefix(prefix.size());
                ManifestNote note{line, key, std::string(text), {}};
                if (text.starts_with("unknown key ")) {
                    note.message = "unknown key (ignored)";
                    if (!isKnownKey(key)) note.suggestion = didYouMean(key, kManifestKeys);
                    if (!note.suggestion.empty()) note.message += "; did you mean '" + note.suggestion + "'?";
                } else if (const std::string quoted = "key '" + key + "': "; text.starts_with(quoted)) {
                    note.message = std::string(text.substr(quoted.size()));
                }
                m.notes.push_back(std::move(note));
            }
        }
    } catch (const KeyError& e) {
        return Error{ErrorCode::BadManifest,
                     prefix + "key '" + e.key + "': " + e.what,
                     std::string(source),
                     e.key,
                     line,
                     e.what};
    } catch (const YAML::Exception& e) {
        return Error{
            ErrorCode::BadManifest, prefix + "key '" + key + "': " + e.msg, std::string(source), key, line, e.msg};
    } catch (const std::exception& e) {
        return Error{ErrorCode::BadManifest,
                     prefix + "key '" + key + "': " + e.what(),
                     std::string(source),
                     key,
                     line,
                     e.what()};
    }
    return m;
}

std::optional<std::filesystem::path> findManifest(const std::filesystem::path& dir) {
    for (std::string_view name : {kManifestFile, kManifestFileYml}) {
        std::error_code ec;
        auto path = dir / name;
        if (std::filesystem::is_regular_file(path, ec)) return path;
    }
    return std::nullopt;
}

Result<Manifest> loadAppManifest(const std::filesystem::path& dir) {
    auto path = findManifest(dir);
    if (!path) return Manifest{};
    return loadManifest(*path);
}

Result<Manifest> loadManifest(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{ErrorCode::Io, path.string() + ": cannot read manifest", path.string(), {}};
    // At most one byte past the limit is read: a huge file (or a FIFO) costs nothing more.
    std::string text(kMaxManifestBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return Error{ErrorCode::Io, path.string() + ": read error", path.string(), {}};
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxManifestBytes) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        return Error{ErrorCode::BadManifest,
                     path.string() + ": manifest is " +
                         (ec ? "over " + std::to_string(kMaxManifestBytes) : std::to_string(size)) +
                         " bytes; the limit is " + std::to_string(kMaxManifestBytes) + " (1 MiB)",
                     path.string(),
                     {}};
    }
    return parseManifest(text, path.string());
}

}  // namespace buntime::router

// SPDX-License-Identifier: MIT
// Semver parsing, precedence and npm-style range desugaring (node-semver rules).
#include "buntime/router/semver.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace buntime::router {

namespace {

// Same bound as node-semver (Number.MAX_SAFE_INTEGER): keeps M+1 arithmetic exact.
constexpr std::uint64_t kMaxComponent = (std::uint64_t{1} << 53) - 1;

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) noexcept { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'; }
bool allDigits(std::string_view s) noexcept { return !s.empty() && std::all_of(s.begin(), s.end(), isDigit); }

std::optional<std::uint64_t> parseNumber(std::string_view s) {
    if (!allDigits(s) || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || ptr != s.data() + s.size() || n > kMaxComponent) return std::nullopt;
    return n;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

// Parses "-pre+build" tails shared by versions and range partials.
bool parseTail(std::string_view tail, std::vector<std::string>& pre, std::string& build) {
    std::size_t plus = tail.find('+');
    std::string_view build_part;
    if (plus != std::string_view::npos) {
        build_part = tail.substr(plus + 1);
        tail = tail.substr(0, plus);
        if (build_part.empty()) return false;
        for (std::string_view id : split(build_part, '.'))
            if (id.empty() || !std::all_of(id.begin(), id.end(), isIdentChar)) return false;
    }
    if (!tail.empty()) {
        if (tail[0] != '-' || tail.size() == 1) return false;
        for (std::string_view id : split(tail.substr(1), '.')) {
            if (id.empty() || !std::all_of(id.begin(), id.end(), isIdentChar)) return false;
            if (allDigits(id) && id.size() > 1 && id[0] == '0') return false;
            pre.emplace_back(id);
        }
    }
    build = std::string(build_part);
    return true;
}

std::strong_ordering compareIdent(const std::string& a, const std::string& b) noexcept {
    bool an = allDigits(a), bn = allDigits(b);
    if (an && bn) {
        // No leading zeros, so length orders first.
        if (a.size() != b.size()) return a.size() <=> b.size();
        return a.compare(b) <=> 0;
    }
    if (an != bn) return an ? std::strong_ordering::less : std::strong_ordering::greater;
    return a.compare(b) <=> 0;
}

// A version in a range with optional (wildcard) parts: "1", "1.2", "1.x", "*".
struct Partial {
    std::optional<std::uint64_t> major, minor, patch;
    std::vector<std::string> prerelease;
};

std::optional<Partial> parsePartial(std::string_view s) {
    if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
    std::size_t core_end = s.find_first_of("-+");
    std::string_view core = s.substr(0, core_end);
    std::string_view tail = core_end == std::string_view::npos ? std::string_view{} : s.substr(core_end);
    auto parts = split(core, '.');
    if (parts.size() > 3) return std::nullopt;
    Partial p;
    std::optional<std::uint64_t>* slots[3] = {&p.major, &p.minor, &p.patch};
    bool wildcard = false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        std::string_view part = parts[i];
        if (part == "x" || part == "X" || part == "*") {
            wildcard = true;
            continue;
        }
        auto n = parseNumber(part);
        if (!n) return std::nullopt;
        if (!wildcard)  // "1.x.3" is "1.x": a number after a wildcard is ignored
            *slots[i] = *n;
    }
    std::string build;
    if (!parseTail(tail, p.prerelease, build)) return std::nullopt;
    if (!p.prerelease.empty() && !p.patch) return std::nullopt;  // "1.2-beta" is not a version
    return p;
}

Version makeVersion(std::uint64_t M, std::uint64_t m, std::uint64_t p, bool zeroPre = false) {
    Version v;
    v.major = M;
    v.minor = m;
    v.patch = p;
    if (zeroPre) v.prerelease = {"0"};
    return v;
}

Version fullOf(const Partial& p) {
    Version v = makeVersion(*p.major, *p.minor, *p.patch);
    v.prerelease = p.prerelease;
    return v;
}

using Op = Range::Op;
using Comparator = Range::Comparator;

Comparator cmp(Op op, Version v) { return Comparator{op, std::move(v)}; }
Comparator anyComparator() { return Comparator{Op::Any, {}}; }
Comparator nothingComparator() { return cmp(Op::Lt, makeVersion(0, 0, 0, true)); }

void addXRange(const Partial& p, std::vector<Comparator>& out) {
    if (!p.major) {
        out.push_back(anyComparator());
    } else if (!p.minor) {
        out.push_back(cmp(Op::Ge, makeVersion(*p.major, 0, 0)));
        out.push_back(cmp(Op::Lt, makeVersion(*p.major + 1, 0, 0, true)));
    } else if (!p.patch) {
        out.push_back(cmp(Op::Ge, makeVersion(*p.major, *p.minor, 0)));
        out.push_back(cmp(Op::Lt, makeVersion(*p.major, *p.minor + 1, 0, true)));
    } else {
        out.push_back(cmp(Op::Eq, fullOf(p)));
    }
}

void addCaret(const Partial& p, std::vector<Comparator>& out) {
    if (!p.major || !p.minor) {
        addXRange(p, out);
        return;
    }
    std::uint64_t M = *p.major, m = *p.minor;
    if (!p.patch) {
        out.push_back(cmp(Op::Ge, makeVersion(M, m, 0)));
        out.push_back(cmp(Op::Lt, M == 0 ? makeVersion(0, m + 1, 0, true) : makeVersion(M + 1, 0, 0, true)));
        return;
    }
    std::uint64_t pa = *p.patch;
    out.push_back(cmp(Op::Ge, fullOf(p)));
    if (M != 0)
        out.push_back(cmp(Op::Lt, makeVersion(M + 1, 0, 0, true)));
    else if (m != 0)
        out.push_back(cmp(Op::Lt, makeVersion(0, m + 1, 0, true)));
    else
        out.push_back(cmp(Op::Lt, makeVersion(0, 0, pa + 1, true)));
}

void addTilde(const Partial& p, std::vector<Comparator>& out) {
    if (!p.patch) {
        addXRange(p, out);
        return;
    }
    out.push_back(cmp(Op::Ge, fullOf(p)));
    out.push_back(cmp(Op::Lt, makeVersion(*p.major, *p.minor + 1, 0, true)));
}

void addOperator(Op op, const Partial& p, std::vector<Comparator>& out) {
    if (!p.major) {
        out.push_back(op == Op::Gt || op == Op::Lt ? nothingComparator() : anyComparator());
        return;
    }
    if (p.patch) {
        out.push_back(cmp(op, fullOf(p)));
        return;
    }
    std::uint64_t M = *p.major, m = p.minor.value_or(0);
    bool minor_wild = !p.minor;
    switch (op) {
    case Op::Gt:  // >1 → >=2.0.0, >1.2 → >=1.3.0
        out.push_back(cmp(Op::Ge, minor_wild ? makeVersion(M + 1, 0, 0) : makeVersion(M, m + 1, 0)));
        break;
    case Op::Le:  // <=1 → <2.0.0-0, <=1.2 → <1.3.0-0
        out.push_back(cmp(Op::Lt, minor_wild ? makeVersion(M + 1, 0, 0, true) : makeVersion(M, m + 1, 0, true)));
        break;
    case Op::Ge: out.push_back(cmp(Op::Ge, makeVersion(M, m, 0))); break;
    case Op::Lt: out.push_back(cmp(Op::Lt, makeVersion(M, m, 0, true))); break;
    default: addXRange(p, out); break;
    }
}

void addHyphen(const Partial& from, const Partial& to, std::vector<Comparator>& out) {
    if (from.major)
        out.push_back(cmp(Op::Ge, from.patch ? fullOf(from) : makeVersion(*from.major, from.minor.value_or(0), 0)));
    if (!to.major) {
        // no upper bound
    } else if (!to.minor) {
        out.push_back(cmp(Op::Lt, makeVersion(*to.major + 1, 0, 0, true)));
    } else if (!to.patch) {
        out.push_back(cmp(Op::Lt, makeVersion(*to.major, *to.minor + 1, 0, true)));
    } else {
        out.push_back(cmp(Op::Le, fullOf(to)));
    }
    if (out.empty()) out.push_back(anyComparator());
}

bool parseComparator(std::string_view token, std::vector<Comparator>& out) {
    enum class Kind { Plain, Caret, Tilde, Oper } kind = Kind::Plain;
    Op op = Op::Eq;
    static constexpr std::pair<std::string_view, Op> ops[] = {
        {">=", Op::Ge}, {"<=", Op::Le}, {">", Op::Gt}, {"<", Op::Lt}, {"=", Op::Eq}};
    if (token.starts_with("~>")) {
        kind = Kind::Tilde;
        token.remove_prefix(2);
    } else if (token.starts_with('~')) {
        kind = Kind::Tilde;
        token.remove_prefix(1);
    } else if (token.starts_with('^')) {
        kind = Kind::Caret;
        token.remove_prefix(1);
    } else {
        for (auto [text, o] : ops) {
            if (token.starts_with(text)) {
                kind = Kind::Oper;
                op = o;
                token.remove_prefix(text.size());
                break;
            }
        }
    }
    auto p = parsePartial(token);
    if (!p) return false;
    switch (kind) {
    case Kind::Plain: addXRange(*p, out); break;
    case Kind::Caret: addCaret(*p, out); break;
    case Kind::Tilde: addTilde(*p, out); break;
    case Kind::Oper:
        if (op == Op::Eq)
            addXRange(*p, out);
        else
            addOperator(op, *p, out);
        break;
    }
    return true;
}

bool isOperatorOnly(std::string_view t) {
    return t == ">=" || t == "<=" || t == ">" || t == "<" || t == "=" || t == "^" || t == "~" || t == "~>";
}

// Spaces and tabs only, unlike base::trim: a line break inside a range stays an error.
std::string_view trimBlanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool testComparator(const Comparator& c, const Version& v) {
    if (c.op == Op::Any) return true;
    auto r = compare(v, c.version);
    switch (c.op) {
    case Op::Eq: return r == 0;
    case Op::Lt: return r < 0;
    case Op::Le: return r <= 0;
    case Op::Gt: return r > 0;
    case Op::Ge: return r >= 0;
    case Op::Any: return true;
    }
    return false;
}

bool testSet(const std::vector<Comparator>& set, const Version& v, bool include_prerelease) {
    for (const auto& c : set)
        if (!testComparator(c, v)) return false;
    if (!v.isPrerelease() || include_prerelease) return true;
    for (const auto& c : set) {
        if (c.op == Op::Any || !c.version.isPrerelease()) continue;
        if (c.version.major == v.major && c.version.minor == v.minor && c.version.patch == v.patch) return true;
    }
    return false;
}

}  // namespace

std::string Version::toString() const {
    std::string s = std::to_string(major) + '.' + std::to_string(minor) + '.' + std::to_string(patch);
    for (std::size_t i = 0; i < prerelease.size(); ++i) {
        s += i == 0 ? '-' : '.';
        s += prerelease[i];
    }
    if (!build.empty()) s += '+' + build;
    return s;
}

Result<Version> Version::parse(std::string_view text) {
    auto bad = [&] { return makeError(ErrorCode::InvalidValue, "invalid version \"" + std::string(text) + '"'); };
    std::size_t core_end = text.find_first_of("-+");
    auto parts = split(text.substr(0, core_end), '.');
    if (parts.size() != 3) return bad();
    Version v;
    std::uint64_t* slots[3] = {&v.major, &v.minor, &v.patch};
    for (int i = 0; i < 3; ++i) {
        auto n = parseNumber(parts[i]);
        if (!n) return bad();
        *slots[i] = *n;
    }
    if (core_end != std::string_view::npos && !parseTail(text.substr(core_end), v.prerelease, v.build)) return bad();
    return v;
}

std::strong_ordering compare(const Version& a, const Version& b) noexcept {
    if (auto c = a.major <=> b.major; c != 0) return c;
    if (auto c = a.minor <=> b.minor; c != 0) return c;
    if (auto c = a.patch <=> b.patch; c != 0) return c;
    if (a.prerelease.empty() != b.prerelease.empty())
        return a.prerelease.empty() ? std::strong_ordering::greater : std::strong_ordering::less;
    std::size_t n = std::min(a.prerelease.size(), b.prerelease.size());
    for (std::size_t i = 0; i < n; ++i)
        if (auto c = compareIdent(a.prerelease[i], b.prerelease[i]); c != 0) return c;
    return a.prerelease.size() <=> b.prerelease.size();
}

Result<Range> Range::parse(std::string_view text) {
    Range r;
    r.text_ = std::string(text);
    auto bad = [&](std::string_view why) {
        return makeError(ErrorCode::InvalidValue,
                         "invalid version range \"" + std::string(text) + "\": " + std::string(why));
    };
    std::string_view whole = trimBlanks(text);
    if (whole.empty() || whole == "latest") {
        r.latest_ = true;
        return r;
    }
    std::size_t start = 0;
    for (;;) {
        std::size_t pos = whole.find("||", start);
        std::string_view set_text =
            trimBlanks(whole.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (set_text.empty()) return bad("empty alternative");
        std::vector<std::string_view> tokens;
        std::size_t i = 0;
        while (i < set_text.size()) {
            while (i < set_text.size() && (set_text[i] == ' ' || set_text[i] == '\t')) ++i;
            std::size_t j = i;
            while (j < set_text.size() && set_text[j] != ' ' && set_text[j] != '\t') ++j;
            if (j > i) tokens.push_back(set_text.substr(i, j - i));
            i = j;
        }
        std::vector<Comparator> set;
        if (tokens.size() == 3 && tokens[1] == "-") {
            auto from = parsePartial(tokens[0]);
            auto to = parsePartial(tokens[2]);
            if (!from || !to) return bad("bad hyphen range");
            addHyphen(*from, *to, set);
        } else {
            for (std::size_t k = 0; k < tokens.size(); ++k) {
                std::string joined;
                std::string_view tok = tokens[k];
                if (isOperatorOnly(tok)) {  // ">= 1.2.3": operator and version apart
                    if (k + 1 >= tokens.size()) return bad("operator without version");
                    joined = std::string(tok) + std::string(tokens[++k]);
                    tok = joined;
                }
                if (!parseComparator(tok, set)) return bad("bad comparator \"" + std::string(tok) + '"');
            }
        }
        r.sets_.push_back(std::move(set));
        if (pos == std::string_view::npos) break;
        start = pos + 2;
    }
    return r;
}

bool Range::satisfies(const Version& v, bool include_prerelease) const {
    if (latest_) return true;
    for (const auto& set : sets_)
        if (testSet(set, v, include_prerelease)) return true;
    return false;
}

std::optional<Version> bestMatch(const Range& range, std::span<const Version> versions, bool include_prerelease) {
    const Version* best = nullptr;
    if (range.isLatest()) {
        const Version* best_pre = nullptr;
        for (const auto& v : versions) {
            const Version*& slot = v.isPrerelease() ? best_pre : best;
            if (!slot || compare(v, *slot) > 0) slot = &v;
        }
        if (!best) best = best_pre;
    } else {
        for (const auto& v : versions)
            if (range.satisfies(v, include_prerelease) && (!best || compare(v, *best) > 0)) best = &v;
    }
    return best ? std::optional<Version>(*best) : std::nullopt;
}

std::optional<std::string> bestMatch(std::string_view range, std::span<const std::string> versions) {
    auto r = Range::parse(range);
    if (!r) return std::nullopt;
    std::vector<Version> parsed;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < versions.size(); ++i) {
        if (auto v = Version::parse(versions[i])) {
            parsed.push_back(std::move(*v));
            index.push_back(i);
        }
    }
    auto best = bestMatch(*r, parsed);
    if (!best) return std::nullopt;
    for (std::size_t i = 0; i < parsed.size(); ++i)
        if (parsed[i] == *best && parsed[i].build == best->build) return versions[index[i]];
    return std::nullopt;
}

}  // namespace buntime::router

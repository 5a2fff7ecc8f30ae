// SPDX-License-Identifier: MIT
// The configuration check: environment, worker directories, manifests, entrypoints, collisions.
#include "buntime/supervisor/check.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "buntime/proto/launch.h"
#include "buntime/router/host_index.h"
#include "buntime/router/manifest.h"
#include "buntime/router/resolver.h"
#include "buntime/supervisor/config.h"

namespace fs = std::filesystem;

namespace buntime::supervisor {

namespace {

// "PORT=\"abc\" is invalid (...)" → key PORT, message "\"abc\" is invalid (...)".
Finding envFinding(Severity severity, const std::string& text) {
    const auto eq = text.find('=');
    const auto space = text.find(' ');
    if (eq == std::string::npos || (space != std::string::npos && space < eq)) return {severity, "env", 0, "", text};
    return {severity, "env", 0, text.substr(0, eq), text.substr(eq + 1)};
}

Finding manifestError(const router::Error& e, const fs::path& dir) {
    std::string message = !e.reason.empty() ? e.reason : e.message;
    if (const std::string prefix = e.file + ": "; !e.file.empty() && message.starts_with(prefix))
        message.erase(0, prefix.size());  // the file is in the finding already
    return {Severity::Error, e.file.empty() ? dir.string() : e.file, e.line, e.key, std::move(message)};
}

void checkDirs(const std::vector<fs::path>& roots, CheckReport& report) {
    for (const auto& root : roots) {
        std::error_code ec;
        const auto st = fs::status(root, ec);
        std::string why;
        if (!fs::exists(st))
            why = "worker directory does not exist";
        else if (!fs::is_directory(st))
            why = "is not a directory";
        else if (fs::directory_iterator it(root, ec); ec)
            why = "worker directory cannot be read: " + ec.message();
        if (!why.empty()) report.findings.push_back({Severity::Error, root.string(), 0, "RUNTIME_WORKER_DIRS", why});
    }
}

// The worker's rules (worker/src/entrypoint.cpp) without loading anything.
void checkEntrypoint(const fs::path& dir, const router::Manifest& m, const fs::path& manifest, CheckReport& report) {
    const auto& cfg = m.config;
    if (!cfg.command.empty()) return;  // a command app runs its command; no entrypoint to load
    auto at = [&](const std::string& key) {
        auto it = m.lines.find(key);
        return it == m.lines.end() ? 0 : it->second;
    };
    auto fail = [&](std::string why) {
        const bool set = cfg.entrypoint.has_value();
        report.findings.push_back({Severity::Error, set ? manifest.string() : dir.string(), set ? at("entrypoint") : 0,
                                   "entrypoint", std::move(why)});
    };
    std::string name = cfg.entrypoint.value_or(proto::defaultEntrypoint(dir));
    if (name.empty()) {
        std::string list;
        for (const char* n : proto::kDefaultEntrypoints) list += std::string(list.empty() ? "" : ", ") + n;
        return fail("no entrypoint: none of " + list + " is in " + dir.string() + " (set `entrypoint` or `command`)");
    }
    const fs::path rel(name);
    if (rel.is_absolute()) return fail("\"" + name + "\" must be relative to the app directory");
    for (const auto& part : rel)
        if (part == "..") return fail("\"" + name + "\" must stay inside the app directory (no '..')");
    const fs::path full = dir / rel;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(full, ec))) return fail("\"" + name + "\" does not exist in " + dir.string());
    const auto real = fs::weakly_canonical(full, ec);
    const auto real_dir = fs::weakly_canonical(dir, ec);
    if (!fs::exists(real, ec)) return fail("\"" + name + "\" is a dangling link");
    auto [end, _] = std::mismatch(real_dir.begin(), real_dir.end(), real.begin(), real.end());
    if (end != real_dir.end()) return fail("\"" + name + "\" resolves outside the app directory");
    if (!fs::is_regular_file(real, ec)) return fail("\"" + name + "\" is not a regular file");
    if (::access(real.c_str(), R_OK) != 0) return fail("\"" + name + "\" is not readable");
    if (proto::entrypointKindOf(name) == proto::EntrypointKind::Executable && ::access(real.c_str(), X_OK) != 0)
        return fail("\"" + name + "\" is not executable (chmod +x, or name a .so, .html or JS file)");
}

void checkVersion(const router::AppVersionInfo& v, CheckReport& report) {
    auto file = router::findManifest(v.dir);
    auto m = router::loadAppManifest(v.dir);
    if (!m) return report.findings.push_back(manifestError(m.error(), v.dir));
    for (const auto& n : m->notes)
        report.findings.push_back(
            {Severity::Warning, file ? file->string() : v.dir.string(), n.line, n.key, n.message});
    checkEntrypoint(v.dir, *m, file.value_or(v.dir / router::kManifestFile), report);
}

void checkHosts(const router::Resolver& resolver, const std::vector<router::AppInfo>& apps, CheckReport& report) {
    router::HostIndex index;
    std::map<std::string, std::pair<std::string, int>> where;  // app → manifest, line of `hosts`
    for (const auto& app : apps) {
        auto latest = resolver.resolve(app.name, "");
        if (!latest) continue;
        auto m = router::loadAppManifest(latest->dir);
        if (!m || m->config.hosts.empty()) continue;
        auto file = router::findManifest(latest->dir);
        where[app.name] = {file ? file->string() : latest->dir.string(),
                           m->lines.count("hosts") ? m->lines["hosts"] : 0};
        index.add(app.name, m->config.hosts);
    }
    for (const auto& c : index.collisions()) {
        const auto& [file, line] = where[c.loser];
        report.findings.push_back({Severity::Error, file, line, "hosts",
                                   "host '" + c.pattern + "' is also claimed by app " + c.winner +
                                       ", which serves it " + "(the name that sorts first)"});
    }
}

}  // namespace

std::size_t CheckReport::errors() const {
    std::size_t n = 0;
    for (const auto& f : findings) n += f.severity == Severity::Error;
    return n;
}

std::size_t CheckReport::warnings() const { return findings.size() - errors(); }

std::string formatFinding(const Finding& f) {
    std::string out = f.severity == Severity::Error ? "error: " : "warning: ";
    out += f.file;
    if (f.line > 0) out += ":" + std::to_string(f.line);
    out += ": ";
    if (!f.key.empty()) out += f.key + ": ";
    out += f.message;
    return out;
}

CheckReport checkConfiguration(const std::vector<std::string>& environment) {
    CheckReport report;
    std::vector<std::string> warnings, errors;
    const auto config = configFromEnv(environment, warnings, &errors);
    for (const auto& e : errors) report.findings.push_back(envFinding(Severity::Error, e));
    for (const auto& w : warnings) report.findings.push_back(envFinding(Severity::Warning, w));
    if (config.worker_dirs.empty())
        report.findings.push_back(
            {Severity::Error, "env", 0, "RUNTIME_WORKER_DIRS", "is required: a ':'-separated list of app directories"});
    router::Resolver resolver({config.worker_dirs.begin(), config.worker_dirs.end()});
    report.worker_dirs = resolver.roots().size();
    checkDirs(resolver.roots(), report);

    const auto apps = resolver.listApps();
    report.apps = apps.size();
    for (const auto& app : apps) {
        for (const auto& e : app.errors) report.findings.push_back(manifestError(e, e.file));
        std::set<std::string> collided;
        for (const auto& v : app.versions) {
            ++report.versions;
            if (v.error.code == router::ErrorCode::Collision && collided.insert(v.version).second) {
                std::vector<std::string> dirs;
                for (const auto& other : app.versions)
                    if (other.version == v.version) dirs.push_back(other.dir.string());
                std::sort(dirs.begin(), dirs.end());
                std::string list;
                for (const auto& d : dirs) list += (list.empty() ? "" : " and ") + d;
                report.findings.push_back({Severity::Error, dirs.front(), 0, "",
                                           "version collision: " + app.name + "@" + v.version + " is in " + list +
                                               " (requests for it answer 500 APP_CONFIG_ERROR)"});
            }
            checkVersion(v, report);
        }
    }
    checkHosts(resolver, apps, report);
    return report;
}

int checkExitCode(const CheckReport& report, bool strict) {
    if (report.errors() > 0) return 1;
    return strict && report.warnings() > 0 ? 2 : 0;
}

int runCheck(const std::vector<std::string>& environment, bool strict, std::FILE* out) {
    const auto report = checkConfiguration(environment);
    for (const auto& f : report.findings) std::fprintf(out, "%s\n", formatFinding(f).c_str());
    const auto plural = [](std::size_t n, const char* one, const char* many) {
        return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    const int code = checkExitCode(report, strict);
    std::fprintf(out, "buntime check: %s, %s (%s, %s in %s): %s\n", plural(report.errors(), "error", "errors").c_str(),
                 plural(report.warnings(), "warning", "warnings").c_str(), plural(report.apps, "app", "apps").c_str(),
                 plural(report.versions, "version", "versions").c_str(),
                 plural(report.worker_dirs, "worker directory", "worker directories").c_str(),
                 code == 0 ? "ok" : (code == 1 ? "failed" : "warnings (--strict)"));
    return code;
}

}  // namespace buntime::supervisor

// SPDX-License-Identifier: MIT
// install: temp dir on the target filesystem, extract, find the app, validate, fsync, rename.
#include "buntime/deploy/installer.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "buntime/base/error.h"
#include "buntime/base/unique_fd.h"
#include "buntime/router/manifest.h"
#include "buntime/router/semver.h"

namespace buntime::deploy {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxPackageJsonBytes = 1024 * 1024;
constexpr std::string_view kPackageJson = "package.json";

DeployError ioError(std::string_view what, int err) {
    return deployError(500, "DEPLOY_IO_ERROR", base::sysError(what, err).message);
}

// A directory created with mkdtemp; removed on destruction unless released.
class TempDir {
public:
    explicit TempDir(fs::path path) : path_(std::move(path)) {}
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        if (!path_.empty()) removeTree(path_);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

base::Expected<fs::path, DeployError> makeTemp(const fs::path& root, std::string_view prefix) {
    std::string pattern = (root / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) return ioError("mkdtemp " + pattern, errno);
    return fs::path(pattern);
}

bool isFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(fs::symlink_status(p, ec));
}

bool hasAppFiles(const fs::path& dir) { return router::findManifest(dir).has_value() || isFile(dir / kPackageJson); }

// fsync every file and directory under `dir` (and `dir` itself), children first.
base::Expected<void, DeployError> syncTree(const fs::path& dir) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end; !ec && it != end;
         it.increment(ec)) {
        const auto status = it->symlink_status(ec);
        if (ec) break;
        if (!fs::is_regular_file(status) && !fs::is_directory(status)) continue;
        base::UniqueFd fd(::open(it->path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd || ::fsync(fd.get()) != 0) return ioError("fsync " + it->path().string(), errno);
    }
    if (ec) return deployError(500, "DEPLOY_IO_ERROR", "walk " + dir.string() + ": " + ec.message());
    base::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) return ioError("fsync " + dir.string(), errno);
    return {};
}

void syncDir(const fs::path& dir) noexcept {
    base::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) ::fsync(fd.get());
}

}  // namespace

fs::path writableRoot(const std::vector<fs::path>& roots) {
    for (const auto& root : roots) {
        std::error_code ec;
        if (fs::is_directory(root, ec) && ::access(root.c_str(), W_OK | X_OK) == 0) return root;
    }
    return {};
}

base::Expected<std::pair<std::string, std::string>, DeployError> appIdentity(const fs::path& app_dir) {
    std::string name, version;
    if (auto manifest_path = router::findManifest(app_dir)) {
        auto manifest = router::loadManifest(*manifest_path);
        if (!manifest) {
            auto e = manifest.error();
            // Name the file as it is inside the archive, not in the temporary directory.
            const std::string where = manifest_path->filename().string();
            std::string message = e.message;
            if (auto at = message.find(manifest_path->string()); at != std::string::npos)
                message.replace(at, manifest_path->string().size(), where);
            return deployError(400, "INVALID_MANIFEST", "the manifest does not validate: " + message);
        }
        name = manifest.value().config.name;
        version = manifest.value().config.version;
    }
    if ((name.empty() || version.empty()) && isFile(app_dir / kPackageJson)) {
        std::ifstream in(app_dir / kPackageJson, std::ios::binary);
        std::string text;
        text.resize(kMaxPackageJsonBytes + 1);
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxPackageJsonBytes)
            return deployError(400, "INVALID_MANIFEST", "package.json is larger than 1 MiB");
        auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (!doc.is_object()) return deployError(400, "INVALID_MANIFEST", "package.json is not a JSON object");
        if (name.empty() && doc.contains("name") && doc["name"].is_string()) name = doc["name"].get<std::string>();
        if (version.empty() && doc.contains("version") && doc["version"].is_string())
            version = doc["version"].get<std::string>();
    }
    if (name.empty() || version.empty())
        return deployError(400, "INVALID_MANIFEST",
                           "the app needs a name and a semver version: `name:` and `version:` in manifest.yaml, or "
                           "\"name\" and \"version\" in package.json");
    if (!router::isValidAppName(name))
        return deployError(
            400, "INVALID_NAME",
            "app name \"" + name.substr(0, 100) + "\" is not a safe path segment ([A-Za-z0-9][A-Za-z0-9._-]*)");
    if (!router::Version::parse(version) || version.find('/') != std::string::npos || version.size() > 128)
        return deployError(400, "INVALID_VERSION", "version \"" + version.substr(0, 100) + "\" is not semver");
    return std::pair{std::move(name), std::move(version)};
}

base::Expected<Installed, DeployError> install(std::string_view archive, const std::vector<fs::path>& roots,
                                               const std::vector<router::AppInfo>& apps, bool replace,
                                               const ExtractLimits& limits) {
    const fs::path root = writableRoot(roots);
    if (root.empty())
        return deployError(500, "NO_WRITABLE_DIR", "no directory of RUNTIME_WORKER_DIRS is writable by the supervisor");
    auto temp_path = makeTemp(root, ".buntime-deploy-");
    if (!temp_path) return temp_path.error();
    TempDir temp(*temp_path);
    const fs::path unpack = temp.path() / "app";
    if (::mkdir(unpack.c_str(), 0755) != 0) return ioError("mkdir " + unpack.string(), errno);
    auto extracted = extractArchive(archive, unpack, limits);
    if (!extracted) return extracted.error();

    // The app is at the archive's root, or under its one top directory.
    fs::path app_dir = unpack;
    if (!hasAppFiles(unpack)) {
        std::vector<fs::path> top;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(unpack, ec)) top.push_back(e.path());
        if (top.size() == 1 && fs::is_directory(fs::symlink_status(top.front())) && hasAppFiles(top.front()))
            app_dir = top.front();
        else
            return deployError(400, "INVALID_MANIFEST",
                               "no manifest.yaml or package.json at the archive's root or in its one top directory");
    }
    auto identity = appIdentity(app_dir);
    if (!identity) return identity.error();
    auto& [name, version] = identity.value();
    // The router's view of the whole manifest (defaults included) must load too.
    if (auto m = router::loadAppManifest(app_dir); !m)
        return deployError(400, "INVALID_MANIFEST", "the manifest does not validate: " + m.error().message);

    const fs::path app_root = root / name;
    const fs::path dest = app_root / version;
    for (const auto& app : apps) {
        if (app.name != name) continue;
        for (const auto& v : app.versions) {
            if (v.version != version) continue;
            std::error_code ec;
            if (fs::equivalent(v.dir, dest, ec)) continue;
            return deployError(409, "ALREADY_DEPLOYED",
                               name + "@" + version + " is already served from " + v.dir.string() +
                                   " (not a directory deploy manages; remove it first)");
        }
    }
    if (::chmod(app_dir.c_str(), 0755) != 0) return ioError("chmod " + app_dir.string(), errno);
    if (auto synced = syncTree(app_dir); !synced) return synced.error();

    std::error_code ec;
    if (fs::exists(fs::symlink_status(app_root, ec)) && !fs::is_directory(fs::symlink_status(app_root, ec)))
        return deployError(409, "ALREADY_DEPLOYED", app_root.string() + " exists and is not a directory");
    if (::mkdir(app_root.c_str(), 0755) != 0 && errno != EEXIST) return ioError("mkdir " + app_root.string(), errno);
    Installed out{name, version, dest, false};
    if (::renameat2(AT_FDCWD, app_dir.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno != EEXIST) return ioError("rename to " + dest.string(), errno);
        if (!replace)
            return deployError(409, "ALREADY_DEPLOYED",
                               name + "@" + version + " is already deployed; add ?replace=1 to replace it");
        // One atomic exchange: the old tree ends up in the temporary directory, removed with it.
        if (::renameat2(AT_FDCWD, app_dir.c_str(), AT_FDCWD, dest.c_str(), RENAME_EXCHANGE) != 0)
            return ioError("exchange with " + dest.string(), errno);
        out.replaced = true;
    }
    syncDir(app_root);
    syncDir(root);
    return out;
}

base::Expected<fs::path, DeployError> moveToTrash(const fs::path& dir) {
    const fs::path root = dir.parent_path();
    auto trash = makeTemp(root, ".buntime-trash-");
    if (!trash) return trash.error();
    const fs::path to = *trash / "old";
    if (::rename(dir.c_str(), to.c_str()) != 0) {
        const int err = errno;
        ::rmdir(trash->c_str());
        return ioError("rename " + dir.string(), err);
    }
    syncDir(root);
    return *trash;
}

void removeTree(const fs::path& dir) noexcept {
    std::error_code ec;
    fs::remove_all(dir, ec);  // remove_all does not follow symlinks
}

}  // namespace buntime::deploy

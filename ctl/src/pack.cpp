// SPDX-License-Identifier: MIT
// prepareUpload: read an archive, or run tar over a directory and collect its stdout.
#include "buntime/ctl/pack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace buntime::ctl {
namespace {

constexpr std::size_t kMaxUpload = std::size_t(1) << 32;

std::optional<std::string> runTar(const std::string& dir, std::string& error) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return std::nullopt;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        ::close(out[0]);
        ::close(out[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        ::dup2(out[1], 1);
        const char* argv[] = {"tar",         "--create",  "--gzip", "--dereference", "--file=-",
                              "--directory", dir.c_str(), ".",      nullptr};
        ::execvp("tar", const_cast<char* const*>(argv));
        ::_exit(127);
    }
    ::close(out[1]);
    std::string bytes;
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        bytes.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        error = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "cannot run tar (is it installed?)"
                                                                : "tar failed to pack " + dir;
        return std::nullopt;
    }
    return bytes;
}

}  // namespace

std::optional<Upload> prepareUpload(const std::string& path, std::string& error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        error = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if (S_ISDIR(st.st_mode)) {
        auto bytes = runTar(path, error);
        if (!bytes) return std::nullopt;
        return Upload{std::move(*bytes), "application/gzip"};
    }
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > kMaxUpload) {
        error = path + ": not a directory nor an archive file";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        error = path + ": cannot be read";
        return std::nullopt;
    }
    if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
        static_cast<unsigned char>(bytes[1]) == 0x8b)
        return Upload{std::move(bytes), "application/gzip"};
    if (bytes.size() >= 4 && bytes.compare(0, 2, "PK") == 0) return Upload{std::move(bytes), "application/zip"};
    error = path + ": not a .tar.gz, .tgz or .zip archive";
    return std::nullopt;
}

}  // namespace buntime::ctl

// SPDX-License-Identifier: MIT
// A fresh directory under $TMPDIR (or /tmp), removed recursively on destruction, with
// helpers to write and read files in it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace buntime::test {

class TempDir {
public:
    explicit TempDir(std::string_view prefix = "buntime-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& root() const { return root_; }
    const std::string& path() const { return path_; }
    std::string operator/(std::string_view rel) const { return path_ + "/" + std::string(rel); }

    // Writes root/rel (creating parent directories) and returns its full path.
    std::filesystem::path write(const std::filesystem::path& rel, std::string_view content) const;
    // Copies `from` to root/rel (creating parent directories) and returns its full path.
    std::filesystem::path copy(const std::filesystem::path& from, const std::filesystem::path& rel) const;

private:
    std::filesystem::path root_;
    std::string path_;
};

// The whole file; "" when it cannot be read.
std::string readFile(const std::filesystem::path& path);

}  // namespace buntime::test

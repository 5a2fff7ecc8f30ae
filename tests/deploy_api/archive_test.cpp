// SPDX-License-Identifier: MIT
// extractArchive's limits counted while extracting (entries, unpacked bytes, ratio) with
// archives written here by libarchive, and multipartFile.
#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "buntime/deploy/archive.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using namespace buntime::deploy;

namespace {

struct File {
    std::string path;
    std::string data;
};

// A .tar.gz holding `files` (regular, 0644).
std::string tarGz(const std::vector<File>& files) {
    std::vector<char> out(64u << 20);
    std::size_t used = 0;
    archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    archive_write_open_memory(a, out.data(), out.size(), &used);
    for (const auto& f : files) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, f.path.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(f.data.size()));
        archive_write_header(a, e);
        archive_write_data(a, f.data.data(), f.data.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return std::string(out.data(), used);
}

std::string noise(std::size_t n) {
    std::mt19937 rng(42);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

}  // namespace

TEST_CASE("the unpacked byte limit is counted from the data, whatever the headers say") {
    buntime::test::TempDir dir;
    const auto archive = tarGz({{"a", noise(300'000)}, {"b", noise(300'000)}});
    ExtractLimits limits;
    limits.max_bytes = 500'000;
    auto r = extractArchive(archive, dir.path(), limits);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().status == 413);
    CHECK(r.error().message.find("500000 bytes") != std::string::npos);
    limits.max_bytes = 600'000;
    buntime::test::TempDir again;
    auto ok = extractArchive(archive, again.path(), limits);
    REQUIRE(ok.has_value());
    CHECK(ok.value().bytes == 600'000);
    CHECK(fs::file_size(fs::path(again.path()) / "b") == 300'000);
}

TEST_CASE("the entry limit and the expansion ratio") {
    std::vector<File> files;
    for (char c = 'a'; c < 'g'; ++c) files.push_back({std::string(1, c), "x"});
    ExtractLimits limits;
    limits.max_entries = 5;
    buntime::test::TempDir dir;
    auto many = extractArchive(tarGz(files), dir.path(), limits);
    REQUIRE_FALSE(many.has_value());
    CHECK(many.error().status == 413);

    buntime::test::TempDir bomb_dir;
    ExtractLimits ratio;
    ratio.ratio_floor = 1'000'000;
    auto bomb = extractArchive(tarGz({{"zeros", std::string(4'000'000, '\0')}}), bomb_dir.path(), ratio);
    REQUIRE_FALSE(bomb.has_value());
    CHECK(bomb.error().status == 413);
    CHECK(bomb.error().message.find("zip bomb") != std::string::npos);
}

TEST_CASE("paths: ./ prefixes and empty components are fine, files land under dest") {
    buntime::test::TempDir dir;
    auto r = extractArchive(tarGz({{"./app//x/y.txt", "hi"}}), dir.path());
    REQUIRE(r.has_value());
    CHECK(fs::is_regular_file(fs::path(dir.path()) / "app" / "x" / "y.txt"));
    CHECK(sniffFormat("plain") == ArchiveFormat::Unknown);
    CHECK(sniffFormat(std::string("PK\x03\x04", 4)) == ArchiveFormat::Zip);
}

TEST_CASE("multipartFile takes the part with a filename, refuses two files or no boundary") {
    const std::string body =
        "--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.tgz\"\r\n\r\nDATA\r\nMORE\r\n--B--\r\n";
    auto part = multipartFile("multipart/form-data; boundary=B", body);
    REQUIRE(part.has_value());
    CHECK(part.value() == "DATA\r\nMORE");
    CHECK(multipartFile("multipart/form-data; boundary=\"B\"", body).has_value());
    CHECK_FALSE(multipartFile("multipart/form-data", body).has_value());
    const std::string two =
        "--B\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\n1\r\n"
        "--B\r\nContent-Disposition: form-data; filename=\"b\"\r\n\r\n2\r\n--B--\r\n";
    CHECK(multipartFile("multipart/form-data; boundary=B", two).error().status == 400);
    CHECK_FALSE(multipartFile("multipart/form-data; boundary=B", "--B\r\nno end").has_value());
}

// SPDX-License-Identifier: MIT
// Finding the supervisor's cgroup v2 directory and preparing per-app worker groups in it.
#include "buntime/proc/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

#include "buntime/base/error.h"

namespace buntime::proc {
namespace {

std::string readText(const std::string& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    ok = static_cast<bool>(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// cgroupfs files are written whole in one write(); O_CREAT|O_TRUNC is harmless there and
// lets tests use a plain directory.
base::Expected<void, std::string> writeText(const std::string& path, std::string_view text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot open " + path + ": " + base::errnoText(errno);
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(text.size()))
        return "cannot write \"" + std::string(text) + "\" to " + path + ": " + base::errnoText(n < 0 ? err : EIO);
    return {};
}

bool hasWord(std::string_view text, std::string_view word) {
    std::istringstream in{std::string(text)};
    std::string w;
    while (in >> w)
        if (w == word) return true;
    return false;
}

base::Expected<void, std::string> makeDir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
        return "cannot create " + path + ": " + base::errnoText(errno);
    return {};
}

// The mount point and mount root of the cgroup2 filesystem, from mountinfo.
bool findCgroup2Mount(const std::string& mountinfo, std::string& mount_point, std::string& mount_root) {
    std::ifstream in(mountinfo);
    std::string line;
    while (std::getline(in, line)) {
        const auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream head(line.substr(0, dash));
        std::string id, parent, dev;
        head >> id >> parent >> dev >> mount_root >> mount_point;
        return !mount_point.empty();
    }
    return false;
}

}  // namespace

std::string cgroupName(std::string_view app) {
    std::string out;
    for (char c : app) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '@' || c == '-';
        out += ok ? c : '_';
    }
    if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
    return out;
}

base::Expected<WorkerCgroups, CgroupError> WorkerCgroups::setUp(const CgroupSources& sources) {
    bool ok = false;
    const std::string self = readText(sources.proc_self_cgroup, ok);
    if (!ok) return CgroupError{"cannot read " + sources.proc_self_cgroup};
    std::string rel;
    bool found = false;
    std::istringstream lines(self);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("0::")) {
            rel = line.substr(3);
            found = true;
        }
    }
    if (!found) return CgroupError{"no cgroup v2 hierarchy (cgroup v1 only)"};
    std::string mount_point, mount_root;
    if (!findCgroup2Mount(sources.mountinfo, mount_point, mount_root)) return CgroupError{"cgroup2 is not mounted"};
    if (mount_root != "/" && rel.starts_with(mount_root)) rel = rel.substr(mount_root.size());
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    const std::string own = mount_point + rel;

    const std::string controllers = readText(own + "/cgroup.controllers", ok);
    if (!ok) return CgroupError{"cannot read " + own + "/cgroup.controllers"};
    if (!hasWord(controllers, "memory") || !hasWord(controllers, "cpu")) {
        std::string have(controllers);
        while (!have.empty() && (have.back() == '\n' || have.back() == ' ')) have.pop_back();
        return CgroupError{"the cgroup v2 group " + own +
                           " lacks the memory and cpu controllers (it has: " + (have.empty() ? "none" : have) + ")"};
    }
    if (::access(own.c_str(), W_OK) != 0 || ::access((own + "/cgroup.subtree_control").c_str(), W_OK) != 0)
        return CgroupError{"the cgroup v2 group " + own + " is not writable (not delegated to this user)"};

    WorkerCgroups cg;
    const std::string subtree = readText(own + "/cgroup.subtree_control", ok);
    if (!hasWord(subtree, "memory") || !hasWord(subtree, "cpu")) {
        // No process may stay in a non-root group that enables controllers for its children.
        const std::string procs = readText(own + "/cgroup.procs", ok);
        if (!rel.empty() && procs.find_first_not_of(" \n") != std::string::npos) {
            const std::string leaf = own + "/supervisor";
            if (auto made = makeDir(leaf); !made) return CgroupError{made.error()};
            if (auto moved = writeText(leaf + "/cgroup.procs", "0"); !moved) return CgroupError{moved.error()};
            cg.moved_supervisor_ = true;
        }
        if (auto enabled = writeText(own + "/cgroup.subtree_control", "+memory +cpu"); !enabled)
            return CgroupError{enabled.error()};
    }
    cg.workers_dir_ = own + "/buntime-workers";
    if (auto made = makeDir(cg.workers_dir_); !made) return CgroupError{made.error()};
    if (auto enabled = writeText(cg.workers_dir_ + "/cgroup.subtree_control", "+memory +cpu"); !enabled)
        return CgroupError{enabled.error()};
    return cg;
}

base::Expected<std::string, CgroupError> WorkerCgroups::appGroup(std::string_view app, std::uint64_t max_memory,
                                                                 unsigned cpu_weight) const {
    const std::string dir = workers_dir_ + "/" + cgroupName(app);
    if (auto made = makeDir(dir); !made) return CgroupError{made.error()};
    if (auto w = writeText(dir + "/memory.max", max_memory ? std::to_string(max_memory) : "max"); !w)
        return CgroupError{w.error()};
    // Swap would let the group exceed its cap; the file is absent without swap accounting.
    if (::access((dir + "/memory.swap.max").c_str(), F_OK) == 0) (void)writeText(dir + "/memory.swap.max", "0");
    if (auto w = writeText(dir + "/cpu.weight", std::to_string(cpu_weight)); !w) return CgroupError{w.error()};
    return dir + "/cgroup.procs";
}

}  // namespace buntime::proc

#include "provision/files_dir.h"

#include <sys/stat.h>

#include <strings.h>

#include <algorithm>
#include <chrono>

#include "core/limits.h"

namespace labcm::provision {

namespace fs = std::filesystem;

FilesDir::FilesDir(fs::path root) : root_(std::move(root)) {}

namespace {
// The entry `name` of `dir`: as written when it exists, else the one whose name matches
// ignoring case (one directory scan, bounded by the directory's size).
std::optional<fs::path> component(const fs::path& dir, const std::string& name) {
    std::error_code ec;
    fs::path exact = dir / name;
    if (fs::exists(fs::symlink_status(exact, ec))) return exact;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (::strcasecmp(it->path().filename().c_str(), name.c_str()) == 0) return it->path();
    return std::nullopt;
}
} // namespace

std::optional<FoundFile> FilesDir::find(const std::vector<std::string>& parts, std::string* refused) const {
    std::error_code ec;
    fs::path dir = root_;
    for (const auto& part : parts) {
        auto next = component(dir, part);
        if (!next) return std::nullopt;
        dir = *next;
    }
    // Resolve symlinks and require the result to stay inside the (resolved) root.
    auto real = fs::canonical(dir, ec);
    if (ec) return std::nullopt;
    auto realRoot = fs::canonical(root_, ec);
    if (ec) return std::nullopt;
    auto rel = real.lexically_relative(realRoot);
    if (rel.empty() || *rel.begin() == "..") {
        if (refused) *refused = "resolves outside the files directory";
        return std::nullopt;
    }
    if (!fs::is_regular_file(real, ec)) {
        if (refused) *refused = "not a regular file";
        return std::nullopt;
    }
    auto size = fs::file_size(real, ec);
    if (ec) return std::nullopt;
    return FoundFile{real, size};
}

std::optional<std::int64_t> folderMtimeNs(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool racyMtime(std::int64_t mtimeNs) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return mtimeNs >= std::chrono::duration_cast<std::chrono::nanoseconds>(now - limits::kRacyStampWindow).count();
}

DirStamp FilesDir::stamp(const std::vector<std::string>& parts) const {
    DirStamp s;
    auto rootMtime = folderMtimeNs(root_);
    if (!rootMtime) return s; // no files directory: its creation is not watched (setting it up restarts labcm)
    s.dirs.emplace_back(root_, *rootMtime);
    // The folders find() goes through, found the way find() finds them.
    fs::path dir = root_;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        auto next = component(dir, parts[i]);
        auto mtime = next ? folderMtimeNs(*next) : std::nullopt;
        if (!mtime) break;
        s.dirs.emplace_back(*next, *mtime);
        dir = *next;
    }
    for (const auto& [path, m] : s.dirs) s.racy = s.racy || racyMtime(m);
    return s;
}

void DirStamp::merge(const DirStamp& other) {
    racy = racy || other.racy;
    for (const auto& d : other.dirs) {
        auto same = std::find_if(dirs.begin(), dirs.end(), [&d](const auto& e) { return e.first == d.first; });
        if (same == dirs.end()) dirs.push_back(d);
        else if (same->second != d.second) racy = true;
    }
}

bool FilesDir::unchanged(const DirStamp& s) {
    if (s.racy) return false;
    for (const auto& [path, m] : s.dirs)
        if (folderMtimeNs(path) != m) return false;
    return true;
}

} // namespace labcm::provision

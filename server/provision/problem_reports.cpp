#include "provision/problem_reports.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <system_error>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace labcm::provision {

namespace fs = std::filesystem;

std::filesystem::path ProblemReports::incoming() {
    std::lock_guard lock(mutex_);
    fs::create_directories(root_ / ".incoming");
    return root_ / ".incoming" / fmt::format("upload-{}-{}", ::getpid(), ++nextIncoming_);
}

void ProblemReports::discard(const std::filesystem::path& incoming) const {
    std::error_code ec;
    fs::remove(incoming, ec);
}

ProblemReport ProblemReports::store(const std::string& mac, const std::filesystem::path& from, std::uint64_t offset,
                                    std::uint64_t bytes, std::chrono::system_clock::time_point now) {
    std::lock_guard lock(mutex_);
    const auto dir = folder(mac);
    fs::create_directories(dir);
    // UTC (fmt 9 formats a system_clock time point in local time) and a zero-padded counter:
    // the names sort in the order the reports arrived.
    const auto stamp = fmt::format("{:%Y%m%d%H%M%S}", fmt::gmtime(std::chrono::system_clock::to_time_t(now)));
    std::string name = fmt::format("prt-SEP{}-{}.tar.gz", mac, stamp);
    for (int n = 2; n < 1000 && fs::exists(dir / name); ++n) name = fmt::format("prt-SEP{}-{}_{:03}.tar.gz", mac, stamp, n);
    const auto tmp = dir / (".part-" + name);
    try {
        std::ifstream in(from, std::ios::binary);
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!in || !out) throw std::runtime_error(fmt::format("cannot write {}", tmp.string()));
        in.seekg(static_cast<std::streamoff>(offset));
        std::vector<char> buf(64 * 1024);
        for (std::uint64_t left = bytes; left > 0;) {
            const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size()));
            if (!in.read(buf.data(), n)) throw std::runtime_error("the upload is shorter than its form says");
            out.write(buf.data(), n);
            left -= static_cast<std::uint64_t>(n);
        }
        out.flush();
        if (!out) throw std::runtime_error(fmt::format("cannot write {}", tmp.string()));
        out.close();
        fs::rename(tmp, dir / name); // whole or not at all
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
    discard(from);
    pruneFolder(dir, now, name);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return {name, bytes, ms};
}

std::size_t ProblemReports::pruneFolder(const fs::path& dir, std::chrono::system_clock::time_point now, const std::string& stored) const {
    std::vector<fs::directory_entry> all;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file(ec) && e.path().filename().string().starts_with("prt-")) all.push_back(e);
    // Newest first by name (prt-SEP<MAC>-YYYYmmddHHMMSS[_n]); the newest `keep` stay, if young enough.
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.path().filename() > b.path().filename(); });
    std::size_t removed = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        bool old = false;
        if (maxAge_.count() > 0) {
            auto written = std::chrono::file_clock::to_sys(all[i].last_write_time(ec));
            old = !ec && now - written > maxAge_;
        }
        if ((i < keep_ && !old) || all[i].path().filename() == stored) continue; // never the one just stored
        if (fs::remove(all[i].path(), ec)) ++removed;
    }
    return removed;
}

std::size_t ProblemReports::prune(std::chrono::system_clock::time_point now) const {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_, ec))
        if (e.is_directory(ec) && e.path().filename().string().starts_with("SEP")) removed += pruneFolder(e.path(), now);
    return removed;
}

std::vector<ProblemReport> ProblemReports::list(const std::string& mac) const {
    pruneFolder(folder(mac), std::chrono::system_clock::now());
    std::vector<ProblemReport> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder(mac), ec)) {
        const auto name = e.path().filename().string();
        if (!name.starts_with("prt-") || !e.is_regular_file(ec)) continue;
        const auto written = e.last_write_time(ec);
        const auto sys = std::chrono::file_clock::to_sys(written);
        out.push_back({name, e.file_size(ec), std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count()});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name > b.name; });
    return out;
}

std::optional<std::filesystem::path> ProblemReports::find(const std::string& mac, const std::string& name) const {
    for (const auto& r : list(mac))
        if (r.name == name) return folder(mac) / r.name;
    return std::nullopt;
}

} // namespace labcm::provision

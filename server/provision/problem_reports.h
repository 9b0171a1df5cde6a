// Problem reports (PRT) phones upload (issue 22): <data-dir>/prt/SEP<MAC>/, one archive per
// upload under a name labcm makes (prt-SEP<MAC>-YYYYmmddHHMMSS[_n].tar.gz: nothing of the
// phone's text reaches a path), the newest `keep` per phone and none older than `maxAge`
// (settings prt_kept, prt_max_days). Files only, no database: an admin can copy the folder
// away, and they survive restarts. Thread-safe: the HTTP threads store, the io thread lists.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace labcm::provision {

struct ProblemReport {
    std::string name;     ///< the file name (listing and download)
    std::uint64_t size = 0;
    std::int64_t timeMs = 0; ///< when it arrived
};

class ProblemReports {
public:
    /// @param maxAge reports older than this go (zero: no age limit).
    ProblemReports(std::filesystem::path root, std::size_t keep, std::chrono::hours maxAge = {})
        : root_(std::move(root)), keep_(keep), maxAge_(maxAge) {}
    const std::filesystem::path& root() const { return root_; }

    /// @brief Applies the retention to every phone's folder (at start); returns how many
    /// reports went.
    std::size_t prune(std::chrono::system_clock::time_point now) const;

    /// @brief A fresh file for an upload in progress (under root/.incoming), removed by
    /// store() or discard().
    std::filesystem::path incoming();
    /// @brief Moves `bytes` of `from` at `offset` (the form's file part) into the phone's
    /// folder; the oldest beyond `keep` go. Returns the stored report; throws on I/O errors.
    ProblemReport store(const std::string& mac, const std::filesystem::path& from, std::uint64_t offset, std::uint64_t bytes,
                        std::chrono::system_clock::time_point now);
    void discard(const std::filesystem::path& incoming) const;

    /// @brief The phone's reports, newest first; those past the retention are removed.
    std::vector<ProblemReport> list(const std::string& mac) const;
    /// @brief The path of one of the phone's reports, nullopt when `name` is not one of them
    /// (checked against the listing: no path is built from the request).
    std::optional<std::filesystem::path> find(const std::string& mac, const std::string& name) const;

private:
    std::filesystem::path folder(const std::string& mac) const { return root_ / ("SEP" + mac); }
    /// Removes the folder's reports beyond `keep_` or older than `maxAge_`; returns how many.
    std::size_t pruneFolder(const std::filesystem::path& dir, std::chrono::system_clock::time_point now,
                            const std::string& stored = {}) const;
    std::filesystem::path root_;
    std::size_t keep_;
    std::chrono::hours maxAge_;
    mutable std::mutex mutex_;
    std::uint64_t nextIncoming_ = 0;
};

} // namespace labcm::provision

// Change notification for a few folders (inotify): the render cache asks "did anything I was
// rendered from change?" with one ioctl instead of a stat per folder per request.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>

namespace labcm::provision {

class FolderWatch {
public:
    FolderWatch();
    ~FolderWatch();
    FolderWatch(const FolderWatch&) = delete;
    FolderWatch& operator=(const FolderWatch&) = delete;

    /// @brief Watches a folder for names that appear, go or move (and, with `contents`, for
    /// writes to the files in it). Watching it again is cheap and follows a folder replaced
    /// at the same path. @return false when it cannot be watched (missing, or no inotify).
    bool watch(const std::filesystem::path& folder, bool contents = false);

    /// @brief Any thread: a number that differs from every earlier answer once a watched
    /// folder changed. Exact: a change whose system call has returned is seen by the next call.
    std::uint64_t generation() const;

private:
    int fd_ = -1;
    mutable std::mutex drainMutex_;
    mutable std::atomic<std::uint64_t> generation_{0};
};

} // namespace labcm::provision

#include "provision/folder_watch.h"

#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace labcm::provision {

namespace {
constexpr std::uint32_t kNames = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr std::uint32_t kContents = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB;
} // namespace

FolderWatch::FolderWatch() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ < 0) spdlog::warn("inotify unavailable ({}): cached files are checked with a stat per folder", errno);
}

FolderWatch::~FolderWatch() {
    if (fd_ >= 0) ::close(fd_);
}

bool FolderWatch::watch(const std::filesystem::path& folder, bool contents) {
    if (fd_ < 0) return false;
    // IN_MASK_ADD: a folder watched both ways keeps both.
    return ::inotify_add_watch(fd_, folder.c_str(), kNames | (contents ? kContents : 0) | IN_ONLYDIR | IN_MASK_ADD) >= 0;
}

std::uint64_t FolderWatch::generation() const {
    int pending = 0;
    if (fd_ >= 0 && ::ioctl(fd_, FIONREAD, &pending) == 0 && pending > 0) {
        std::lock_guard lock(drainMutex_);
        // Counted before the queue is drained: a caller that finds it empty finds the new number.
        generation_.fetch_add(1);
        alignas(inotify_event) char events[4096];
        while (::read(fd_, events, sizeof events) > 0) {
        }
    }
    return generation_.load();
}

} // namespace labcm::provision

#include "sip/sofia_loop.h"

#include <poll.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace labcm::sip::sofia {

namespace {

/// The longest su_root_step's rounding can hide: a timer due in under a millisecond.
constexpr long kSubMillisecondNs = 1'000'000;

bool isEpoll(const std::filesystem::path& fdLink) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fdLink, ec);
    return !ec && target.native() == "anon_inode:[eventpoll]";
}

/// @brief Whether the epoll fd `fd` watches `member`: its fdinfo has a line "tfd: <member> ...".
bool watches(const std::string& fd, int member) {
    std::ifstream info("/proc/self/fdinfo/" + fd);
    std::string line;
    while (std::getline(info, line)) {
        if (!line.starts_with("tfd:")) continue;
        auto at = line.find_first_not_of(" \t", 4);
        if (at == std::string::npos) continue;
        int watched = -1;
        std::from_chars(line.data() + at, line.data() + line.size(), watched);
        if (watched == member) return true;
    }
    return false;
}

} // namespace

int pollFdWatching(int member) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        const auto name = entry.path().filename().string();
        int fd = -1;
        if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc{}) continue;
        if (isEpoll(entry.path()) && watches(name, member)) return fd;
    }
    return -1;
}

void runRoot(su_root_t* root, int pollFd, const bool& running) {
    if (pollFd < 0) {
        su_root_run(root);
        return;
    }
    while (running) {
        // Waits for events or the next timer (at most a second), runs them, and returns the
        // whole milliseconds to the next timer: 0 when it is due within the millisecond (or
        // when events ran; the wait below then returns at once if more are ready).
        if (su_root_step(root, 1000) != 0 || !running) continue;
        pollfd ready{pollFd, POLLIN, 0};
        const timespec fraction{0, kSubMillisecondNs};
        ::ppoll(&ready, 1, &fraction, nullptr);
    }
}

} // namespace labcm::sip::sofia

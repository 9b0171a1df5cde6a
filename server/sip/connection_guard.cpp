#include "sip/connection_guard.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include <spdlog/spdlog.h>

namespace labcm::sip {

namespace {

// The listening sockets accept() hands to the guard (sofia may listen on IPv4 and IPv6): set
// while a SipService's stack runs, by the SIP thread, which is also the only one to use gGuard.
constexpr std::size_t kMaxGuarded = 4;
std::array<std::atomic<int>, kMaxGuarded> gGuardedFds{-1, -1, -1, -1};
ConnectionGuard* gGuard = nullptr;

std::uint64_t inodeOf(int fd) {
    struct stat st{};
    return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

} // namespace

ConnectionGuard::ConnectionGuard(std::size_t total, std::size_t perAddress, std::chrono::milliseconds unregistered)
    : perAddress_(perAddress), caps_(total, perAddress), unregistered_(unregistered), spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

ConnectionGuard::~ConnectionGuard() {
    unguard();
    if (spare_ >= 0) ::close(spare_);
}

void ConnectionGuard::unguard() {
    if (!active_) return;
    for (auto& g : gGuardedFds) g = -1;
    gGuard = nullptr;
    active_ = false;
    while (!connections_.empty()) forget(connections_.begin()->first);
}

void ConnectionGuard::guard(const std::vector<int>& listenFds) {
    if (gGuard) {
        spdlog::warn("sip: another SIP service guards its TCP connections; this one's are not capped");
        return;
    }
    gGuard = this;
    active_ = true;
    for (std::size_t i = 0; i < listenFds.size() && i < kMaxGuarded; ++i) gGuardedFds[i] = listenFds[i];
}

ConnectionGuard::Peer ConnectionGuard::peerOf(const sockaddr* sa) {
    Peer p{net::PeerAddress::from(sa), 0};
    if (sa && sa->sa_family == AF_INET) p.port = ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
    else if (sa && sa->sa_family == AF_INET6) p.port = ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
    return p;
}

// A refusal is logged at most once a second, with the count of those left out: a flood of
// connections must not become a flood of log lines.
void ConnectionGuard::refuse(int fd, const char* why, std::atomic<std::uint64_t>& counter, const Peer& peer) {
    if (fd >= 0) ::close(fd);
    ++counter;
    auto now = Clock::now();
    if (now < nextLog_) {
        ++leftOut_;
        return;
    }
    nextLog_ = now + std::chrono::seconds(1);
    spdlog::warn("sip: TCP connection from {} refused: {} ({} more refused in the last second)", peer.address.toString(), why,
                 std::exchange(leftOut_, 0));
}

int ConnectionGuard::accept(int fd, sockaddr* addr, unsigned* len) {
    sockaddr_storage own{};
    socklen_t ownLen = sizeof own;
    sockaddr* sa = addr ? addr : reinterpret_cast<sockaddr*>(&own);
    socklen_t* salen = addr ? reinterpret_cast<socklen_t*>(len) : &ownLen;
    int s = ::accept4(fd, sa, salen, 0);
    if (s < 0) {
        if (errno != EMFILE && errno != ENFILE) return -1;
        // No descriptor left: the spare one makes room to take the connection off the queue
        // and close it, so the listening socket does not stay readable (a busy loop). The
        // spare is taken again once that connection is closed.
        if (spare_ >= 0) ::close(spare_);
        s = ::accept4(fd, sa, salen, SOCK_CLOEXEC);
        if (s >= 0) refuse(s, "no file descriptor left", refusedNoDescriptor_, peerOf(sa));
        spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        errno = 0; // sofia reports nothing for errno 0
        return -1;
    }
    Peer peer = peerOf(sa);
    if (auto old = connections_.find(s); old != connections_.end()) forget(s); // the number was reused
    auto verdict = caps_.admit(peer.address);
    if (verdict != net::Admission::Admitted && Clock::now() >= nextRecount_) {
        // Counts may include connections sofia closed since the last sweep: look once more,
        // at most ten times a second (a sweep reads every connection; a flood at the cap must
        // not make each refusal cost that).
        nextRecount_ = Clock::now() + std::chrono::milliseconds(100);
        sweep(Clock::now());
        verdict = caps_.admit(peer.address);
    }
    if (verdict == net::Admission::TotalFull) {
        refuse(s, "the SIP connection limit is reached", refusedTotal_, peer);
        errno = 0;
        return -1;
    }
    if (verdict == net::Admission::AddressFull) {
        refuse(s, "that address has its limit of connections open (setting connections_per_address)", refusedPerAddress_, peer);
        errno = 0;
        return -1;
    }
    connections_[s] = Connection{peer, inodeOf(s), Clock::now() + unregistered_};
    byPeer_[peer] = s;
    ++open_;
    return s;
}

void ConnectionGuard::registered(const sockaddr* peer, Clock::time_point until) {
    auto it = byPeer_.find(peerOf(peer));
    if (it == byPeer_.end()) return;
    if (auto c = connections_.find(it->second); c != connections_.end()) c->second.deadline = until;
}

bool ConnectionGuard::alive(int fd, const Connection& c) const { return c.inode != 0 && inodeOf(fd) == c.inode; }

void ConnectionGuard::forget(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    caps_.release(it->second.peer.address);
    if (auto p = byPeer_.find(it->second.peer); p != byPeer_.end() && p->second == fd) byPeer_.erase(p);
    connections_.erase(it);
    --open_;
}

std::size_t ConnectionGuard::sweep(Clock::time_point now) {
    std::size_t shut = 0;
    for (auto it = connections_.begin(); it != connections_.end();) {
        const int fd = it->first;
        auto& c = it->second;
        ++it; // forget() erases the current element only
        if (!alive(fd, c)) {
            forget(fd);
        } else if (now >= c.deadline) {
            // The socket is sofia's: shut down, sofia reads the end and closes it as the peer's.
            // Only this thread closes sofia's sockets, so the descriptor checked above is it.
            ::shutdown(fd, SHUT_RDWR);
            c.deadline = Clock::time_point::max();
            ++closedUnregistered_;
            ++shut;
        }
    }
    return shut;
}

ConnectionGuardCounters ConnectionGuard::counters() const {
    return {open_.load(), refusedTotal_.load(), refusedPerAddress_.load(), refusedNoDescriptor_.load(), closedUnregistered_.load()};
}

} // namespace labcm::sip

// Bound by the dynamic linker in place of libc's for sofia-sip (and for this program's own
// calls): the guarded listening socket goes through the guard, every other one to accept4(2),
// which is what libc's accept is.
extern "C" int accept(int fd, sockaddr* addr, socklen_t* len) {
    if (fd >= 0)
        for (const auto& guarded : labcm::sip::gGuardedFds)
            if (fd == guarded.load(std::memory_order_relaxed)) return labcm::sip::gGuard->accept(fd, addr, len);
    return ::accept4(fd, addr, len, 0);
}

#include "control/control_client.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/limits.h"

namespace labcm::control {
namespace {

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

} // namespace

std::optional<boost::json::value> callServer(const std::filesystem::path& socketPath, const boost::json::value& request) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    auto p = socketPath.string();
    if (p.size() >= sizeof addr.sun_path)
        throw std::runtime_error(fmt::format("control socket path is too long: {}", p));
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);

    Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == ENOENT || errno == ECONNREFUSED) return std::nullopt; // no server running
        throw std::runtime_error(fmt::format("cannot connect to {}: {}", p, std::strerror(errno)));
    }

    std::string out = boost::json::serialize(request) + "\n";
    for (std::size_t sent = 0; sent < out.size();) {
        auto n = ::send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(fmt::format("sending to the server: {}", std::strerror(errno)));
        }
        sent += static_cast<std::size_t>(n);
    }

    std::string in;
    auto deadline = std::chrono::steady_clock::now() + limits::kControlClientTimeout;
    char buf[65536];
    while (in.find('\n') == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("the server did not answer in time");
        pollfd pfd{s.fd, POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
        if (r == 0) continue;
        auto n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("the server closed the connection without answering");
        in.append(buf, static_cast<std::size_t>(n));
        if (in.size() > limits::kMaxControlMessage) throw std::runtime_error("the server's answer is too large");
    }
    in.resize(in.find('\n'));
    return boost::json::parse(in);
}

} // namespace labcm::control

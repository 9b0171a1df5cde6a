// The control socket: a unix stream socket in the data dir (mode 0600, peers must be root
// or the server's own user) on which the CLI sends one JSON request per line and reads one
// JSON reply per line. Runs on the io thread; requests go to control::Commands.
#pragma once

#include <filesystem>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "control/commands.h"

namespace labcm::control {

class ControlServer {
public:
    /// @brief Binds `path` (replacing a stale socket file) and starts accepting.
    /// @throw boost::system::system_error when the socket cannot be bound.
    ControlServer(boost::asio::io_context& io, const std::filesystem::path& path, Commands& commands);
    ~ControlServer();
    void stop();
    const std::filesystem::path& path() const { return path_; }

private:
    class Session;
    void doAccept();

    boost::asio::io_context& io_;
    std::filesystem::path path_;
    Commands& commands_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::shared_ptr<std::size_t> sessions_ = std::make_shared<std::size_t>(0);
};

} // namespace labcm::control

// The admin web server (TCP 8080): the page (web/, embedded), the REST API (admin_api.h,
// each route a command of control/commands), login with a session cookie and a CSRF token,
// Server-Sent Events for live updates, /metrics (Prometheus text) and /api/health. Runs on
// the io thread; password checks run on a worker thread of their own.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "control/commands.h"
#include "core/events.h"
#include "store/sqlite.h"

namespace labcm::admin {

struct AdminDeps {
    control::Commands& commands;
    store::Db& reader; ///< the io thread's connection (the password hash)
    EventBus& bus;
    std::function<std::string()> metrics; ///< Prometheus text
    /// Readiness for /api/health: 200 when every listener is bound, else 503.
    std::function<bool()> ready = [] { return true; };
    std::string filesDir = {}; ///< where uploads are written (the files folder)
};

class AdminHttpServer {
public:
    /// @throw boost::system::system_error when the endpoint cannot be bound.
    AdminHttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, AdminDeps deps);
    ~AdminHttpServer();
    void stop();
    boost::asio::ip::tcp::endpoint localEndpoint() const;

    /// @brief A device's data or registration changed and is committed: live pages get its
    /// new row (io thread).
    void deviceChanged(const std::string& mac);
    /// @brief Many devices changed (an import, an outside write): live pages reload.
    void devicesReloaded();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

/// @brief The embedded page files: name ("index.html") -> body; nullptr when unknown.
const std::string* webFile(const std::string& name);

} // namespace labcm::admin

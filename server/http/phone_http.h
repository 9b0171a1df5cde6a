// HTTP on TCP 6970: the phones' configuration and firmware, the same namespace as TFTP.
// GET and HEAD only; every connection has limits and timeouts (limits.h); every request is
// an event.
//
// Threads: connections run on their own io_contexts, one thread each (limits::kPhoneHttpThreads;
// accepted connections are dealt round-robin), so a boot storm uses every core, no two threads
// wake each other per request, and the main io thread (TFTP, DHCP, admin) is not delayed.
// A request the file namespace answers without the database (a cached or static file, a
// refused name) is answered on the connection's thread; one that needs a render goes to the
// main io thread, which owns the namespace's renders, and its answer comes back.
// Files of the files folder are sent with sendfile(2), from the page cache.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/events.h"
#include "provision/client_macs.h"
#include "provision/file_namespace.h"
#include "provision/problem_reports.h"

namespace labcm::http {

class PhoneHttpServer {
public:
    /// @param io the main io thread's context (renders happen there)
    /// @param perAddress connections one address may hold open (0: no cap; setting connections_per_address)
    /// @param reports where POSTed problem reports go (issue 22); null: POST is answered 405
    /// @param connections the contexts the connections run on, one thread each; they must
    /// outlive `io`'s handlers (declare them before `io`); this object runs and joins the threads.
    /// @throw boost::system::system_error when the endpoint cannot be bound.
    PhoneHttpServer(boost::asio::io_context& io, std::span<boost::asio::io_context> connections,
                    const boost::asio::ip::tcp::endpoint& endpoint, provision::FileNamespace& files, EventBus& bus,
                    provision::ClientMacs& macs, std::size_t perAddress, provision::ProblemReports* reports = nullptr);
    ~PhoneHttpServer();
    /// @brief Stops accepting; connections end when the object goes.
    void stop();
    boost::asio::ip::tcp::endpoint localEndpoint() const { return endpoint_; }
    /// @brief Connections answered 503 Retry-After because limits::kMaxHttpConnections were
    /// open, or their address had its `perAddress` open.
    std::uint64_t busy() const;
    /// @brief Of those, the ones refused for their address.
    std::uint64_t refusedPerAddress() const;

    struct Shared; ///< state sessions share with the server

private:
    void doAccept();

    std::span<boost::asio::io_context> connections_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::size_t next_ = 0; ///< the context the next connection goes to
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer pause_; ///< accepting waits on it while no descriptor is left
    boost::asio::ip::tcp::endpoint endpoint_;
    std::shared_ptr<Shared> shared_;
    std::vector<std::thread> threads_;
};

} // namespace labcm::http

// HTTP on TCP 6970: the phones' configuration and firmware, the same namespace as TFTP.
// GET and HEAD only; files are streamed from disk; every connection has limits and
// timeouts (limits.h); every request is an event.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/events.h"
#include "provision/client_macs.h"
#include "provision/file_namespace.h"

namespace labcm::http {

class PhoneHttpServer {
public:
    /// @throw boost::system::system_error when the endpoint cannot be bound.
    PhoneHttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                    provision::FileNamespace& files, EventBus& bus, provision::ClientMacs& macs);
    ~PhoneHttpServer();
    void stop();
    boost::asio::ip::tcp::endpoint localEndpoint() const;

    struct Shared; ///< state sessions share with the server

private:
    void doAccept();

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<Shared> shared_;
};

} // namespace labcm::http

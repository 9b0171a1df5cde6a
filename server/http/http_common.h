// Pieces both HTTP servers (phones on 6970, the admin page on 8080) use the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/connection_caps.h"
#include "core/limits.h"

namespace labcm::http {

/// @brief The client's address as text, "" when the socket no longer has a peer.
inline std::string peerAddress(boost::beast::tcp_stream& stream) {
    boost::beast::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    return ec ? std::string() : ep.address().to_string();
}

/// @brief A read that ended because the client left, went idle or the server is stopping:
/// close quietly (no 400, no event).
inline bool clientWentAway(const boost::beast::error_code& ec) {
    namespace asio = boost::asio;
    return ec == boost::beast::http::error::end_of_stream || ec == boost::beast::error::timeout ||
           ec == asio::error::operation_aborted || ec == asio::error::connection_reset;
}

/// @brief Answers a connection over a cap with 503 Retry-After: 1 and closes it, at once (a
/// fresh socket's send buffer takes the answer whole; never left to time out).
inline void refuseBusy(boost::asio::ip::tcp::socket& socket) {
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nServer: labcm/" LABCM_VERSION "\r\nRetry-After: 1\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n";
    boost::beast::error_code ec;
    socket.non_blocking(true, ec);
    socket.send(boost::asio::buffer(kBusy), 0, ec);
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

/// @brief Counts a socket just accepted against `caps`: its guard when admitted (the connection
/// is counted while the guard lives). Otherwise nullopt: over a cap the socket got its 503 and
/// `verdict` says which cap; a socket whose peer already left is closed.
inline std::optional<net::AdmittedConnection> admit(boost::asio::ip::tcp::socket& socket, net::ConnectionCaps& caps,
                                                    net::Admission& verdict) {
    boost::beast::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    verdict = net::Admission::Admitted;
    if (ec) {
        socket.close(ec);
        return std::nullopt;
    }
    auto peer = net::PeerAddress::from(remote.data());
    verdict = caps.admit(peer);
    if (verdict != net::Admission::Admitted) {
        refuseBusy(socket); // over a cap: 503, retry in a second
        return std::nullopt;
    }
    return net::AdmittedConnection(caps, peer);
}

/// @brief After an accept: true when it failed because every descriptor is taken; `retry` then
/// runs after kAcceptPauseNoDescriptors on `timer` (Asio would retry at once: a busy loop).
template <class Retry>
bool pauseWhenNoDescriptors(const boost::beast::error_code& ec, boost::asio::steady_timer& timer, Retry retry) {
    if (ec != boost::asio::error::no_descriptors && ec != boost::beast::errc::too_many_files_open_in_system) return false;
    timer.expires_after(limits::kAcceptPauseNoDescriptors);
    timer.async_wait([retry = std::move(retry)](boost::beast::error_code e) {
        if (!e) retry();
    });
    return true;
}

} // namespace labcm::http

// Pieces both HTTP servers (phones on 6970, the admin page on 8080) use the same way.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

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

} // namespace labcm::http

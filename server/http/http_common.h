// Pieces both HTTP servers (phones on 6970, the admin page on 8080) use the same way.
#pragma once

#include <string>

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

} // namespace labcm::http

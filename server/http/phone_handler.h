// The phone HTTP handler without sockets: one parsed request in, one response out (and what
// it came to, for the event). Only opening a file to stream touches the disk.
// tests/unit/http/phone_http_test.cpp drives it with a real file namespace.
#pragma once

#include <cstdint>
#include <string>

#include <boost/beast/http.hpp>

#include "core/events.h"
#include "provision/file_namespace.h"

namespace labcm::http {

/// @brief What a request came to, for the event.
struct Outcome {
    unsigned status = 0;
    std::string name;
    std::string mac;
    std::string reason;
    std::uint64_t bytes = 0;
    EventKind kind = EventKind::FileServed;
    std::string method = "-"; ///< as the client sent it; "-" when the request did not parse
};

/// @brief GET and HEAD of the file namespace; every other method 405.
boost::beast::http::message_generator respondToPhone(const boost::beast::http::request<boost::beast::http::empty_body>& req,
                                                     provision::FileNamespace& files, Outcome& out);

/// @brief The answer to a request that did not parse: 400, connection closed.
boost::beast::http::message_generator malformedRequest();

} // namespace labcm::http

// The phone HTTP handler without sockets: one parsed request in, one response out (and what
// it came to, for the event). Only opening a file to stream touches the disk.
// tests/unit/http/phone_http_test.cpp drives it with a real file namespace.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/beast/http.hpp>

#include "core/events.h"
#include "provision/file_namespace.h"
#include "provision/problem_reports.h"

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

using PhoneRequest = boost::beast::http::request<boost::beast::http::empty_body>;

/// @brief A response: the message, and for a GET of a file in the files folder the file whose
/// bytes follow the headers (sent with sendfile, not through a buffer).
struct PhoneResponse {
    boost::beast::http::message_generator message;
    std::optional<provision::FoundFile> file;
};

/// @brief The name a GET or HEAD asks for (%-decoded, query dropped); nullopt when the request
/// is answered at once (405 for other methods, 400 for a malformed escape), `out` saying how.
std::optional<std::string> requestedName(const PhoneRequest& req, Outcome& out);
/// @brief The answer when requestedName gave nullopt.
PhoneResponse earlyAnswer(const PhoneRequest& req, const Outcome& out);
/// @brief The answer with the name resolved.
PhoneResponse respondWith(const PhoneRequest& req, provision::FileResult r, Outcome& out);
/// @brief All three, for one thread that owns the namespace.
PhoneResponse respondToPhone(const PhoneRequest& req, provision::FileNamespace& files, Outcome& out);

/// @brief A POST of a problem report (multipart/form-data: devicename, serialno, username,
/// prt_file; issue 22) whose body was saved to `body`: the file part stored for the phone
/// its devicename names (200), or refused: 415 not a form, 400 a malformed form or no
/// prt_file, 403 a devicename that is not SEP<MAC>. `body` is gone afterwards either way.
PhoneResponse receiveReport(const PhoneRequest& req, const std::filesystem::path& body,
                            provision::ProblemReports& reports, std::chrono::system_clock::time_point now, Outcome& out);

/// @brief The answer to an upload cut short or over limits::kPrtMaxBytes (413): connection closed.
boost::beast::http::message_generator uploadRefused(bool tooLarge, unsigned version);

/// @brief The answer to a request that did not parse: 400, connection closed.
boost::beast::http::message_generator malformedRequest();

} // namespace labcm::http

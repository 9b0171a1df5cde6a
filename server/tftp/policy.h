// Whether a TFTP request is served, and with what, decided without sockets: writes refused,
// only octet and netascii, the name resolved through the file namespace, a cap on transfers
// at once (a not-found answer takes no slot), netascii refused for large files. tftp/service.cpp carries the answer out.
#pragma once

#include <cstddef>
#include <string>

#include "core/events.h"
#include "provision/file_namespace.h"
#include "tftp/codec.h"

namespace labcm::tftp {

/// @brief The answer to one request.
struct Admission {
    bool serve = false;
    provision::FileResult file; ///< serve: what to send; refused: its MAC and reason, when resolved
    // Refused: the ERROR packet and the event.
    ErrorCode code = ErrorCode::NotDefined;
    std::string message;
    EventKind kind = EventKind::FileRefused;
    std::string reason;
};

/// @param activeTransfers transfers running now (limits::kTftpMaxTransfers is the cap).
Admission admit(const Request& req, std::size_t activeTransfers, provision::FileNamespace& files);

} // namespace labcm::tftp

// Whether a TFTP request is served, and with what, decided without sockets: writes refused,
// only octet and netascii, the name resolved through the file namespace, a cap on transfers
// at once, in all and per address (a not-found answer takes no slot), netascii refused for large files. tftp/service.cpp carries the answer out.
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

/// @brief Transfers running now: in all (limits::kTftpMaxTransfers is the cap) and from the
/// request's address (limits::kTftpMaxTransfersPerSource).
struct Load {
    std::size_t transfers = 0;
    std::size_t fromSource = 0;
};

Admission admit(const Request& req, Load load, provision::FileNamespace& files);

} // namespace labcm::tftp

// `labcm serve`, its health check, and running one command without a server.
#pragma once

#include <stdexcept>
#include <string>

#include <boost/json/value.hpp>

#include "app/data_dir.h"

namespace labcm::app {

/// @brief `labcm serve`: runs until SIGINT/SIGTERM; returns the process exit code.
int serve(const DataDir& dir);

/// @brief GET /api/health on the admin port the settings name (127.0.0.1 when it binds all
/// addresses), 3 s at most: 0 when it answers 200, else 1 with the reason on stderr (the
/// container's HEALTHCHECK).
int healthCheck(const DataDir& dir);

/// @brief A server holds the data dir's lock but its control socket does not answer (yet).
class ServerNotAnswering : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief Runs one command request on the database directly (no server running).
/// @throw ServerNotAnswering when a server holds the data dir (starting or stopping).
boost::json::value runDirect(const DataDir& dir, const boost::json::value& request);

} // namespace labcm::app

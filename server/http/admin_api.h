// The admin REST API as a table: each route (method + path pattern) names the command the
// CLI uses too, so the API is a thin mapping and every write goes through the same handler.
// Pure: request parts -> {"cmd", "args"}, and a command reply -> an HTTP status. docs/api.md
// lists the same table (a test keeps them equal).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "http/url.h"

namespace labcm::admin {

namespace json = boost::json;

/// File: the body is streamed to a file by the HTTP layer (admin_http), which passes that
/// file's path to mapRequest as the body; it becomes args["package"].
enum class Body { None, Json, Csv, File };

struct Route {
    std::string_view method;
    std::string_view pattern; ///< "/api/devices/{device}": {name} binds one path segment to args[name]
    std::string_view command;
    std::string_view summary;
    unsigned okStatus = 200;
    Body body = Body::None;
    bool write = false;       ///< needs the CSRF token
    std::string_view keys = {}; ///< the JSON body's keys, comma separated (Body::Json); any other is a 400
};

std::span<const Route> routes();

/// @brief A refused request: the HTTP status, a machine code and a message naming the field.
struct ApiError {
    unsigned status;
    std::string code;
    std::string field;
    std::string message;
};

struct Mapped {
    const Route* route = nullptr;
    json::object request; ///< {"cmd": ..., "args": {...}}
};

/// @brief Maps a request to its command. Path parameters and query parameters become args
/// (query values as strings; "true"/"false" for dry_run and update become booleans); a JSON
/// body object is merged under them; a CSV body becomes args["csv"]; for a File route, `body`
/// is the path of the file the upload was written to, args["package"] (whatever the query says).
/// @throw ApiError 404 (no route), 405 (path known, method not), 400 (bad JSON, bad escape),
/// 415 (wrong content type).
Mapped mapRequest(std::string_view method, std::string_view target, std::string_view contentType,
                  const std::string& body);

/// @brief The HTTP status for a command's reply: the route's success status, or the error's.
unsigned replyStatus(const json::object& reply, const Route& route);

/// @brief %XX and '+' decoding of a query or path part (http/url.h).
using http::urlDecode;

/// @brief The route of a File body (an upload) at `target` for `method`, else nullptr: the
/// HTTP layer asks before it reads the body.
const Route* uploadRoute(std::string_view method, std::string_view target);

/// @brief One query parameter's decoded value, when present.
std::optional<std::string> queryParam(std::string_view query, std::string_view name);

} // namespace labcm::admin

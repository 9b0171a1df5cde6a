// The request/reply facade over the use-case layer (usecases/usecases.h): the CLI (directly
// or through the control socket of a running `serve`) and the admin API send it requests,
// so a change made anywhere behaves the same and is seen at once.
//
// A request is JSON {"cmd": "device.add", "args": {...}}; the reply is
// {"ok": true, "result": ...} or {"ok": false, "error": {"status": 409, "code": "conflict",
// "field": "mac", "message": "...", "details": ...}}. Status codes follow HTTP so the admin
// API maps them 1:1: 400 bad argument, 404 not found, 409 conflict, 422 invalid content,
// 500 internal, 503 busy.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "usecases/context.h"
#include "usecases/usecases.h"

namespace labcm::control {

namespace json = boost::json;

using usecases::CommandError;
using usecases::Context;
using usecases::RuntimeInfo;

class Commands {
public:
    using Reply = std::function<void(json::object)>;

    explicit Commands(Context ctx);

    /// @brief Runs one request; `reply` is called exactly once, on the reader's thread.
    void execute(const json::value& request, Reply reply);

    /// @brief The names of all commands.
    std::vector<std::string> names() const;

    /// @brief Builds the error reply for an exception (CommandError, store errors, ...).
    static json::object errorReply(std::exception_ptr e);

private:
    usecases::UseCases useCases_;
};

} // namespace labcm::control

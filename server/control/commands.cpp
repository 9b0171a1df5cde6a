#include "control/commands.h"

#include <fmt/format.h>

namespace labcm::control {

Commands::Commands(Context ctx) : useCases_(std::move(ctx)) {}

std::vector<std::string> Commands::names() const { return useCases_.names(); }

json::object Commands::errorReply(std::exception_ptr e) { return usecases::errorReply(std::move(e)); }

void Commands::execute(const json::value& request, Reply reply) {
    try {
        if (!request.is_object()) throw CommandError(400, "bad_request", "", "request must be a JSON object");
        const auto& obj = request.get_object();
        auto* cmd = obj.if_contains("cmd");
        if (!cmd || !cmd->is_string()) throw CommandError(400, "bad_request", "cmd", "cmd: a command name is required");
        auto* handler = useCases_.find(cmd->get_string());
        if (!handler)
            throw CommandError(404, "unknown_command", "cmd", fmt::format("unknown command '{}'", cmd->get_string().c_str()));
        static const json::object kNoArgs;
        const json::object* args = &kNoArgs;
        if (auto* a = obj.if_contains("args"); a && !a->is_null()) {
            if (!a->is_object()) throw CommandError(400, "bad_request", "args", "args must be a JSON object");
            args = &a->get_object();
        }
        (*handler)(*args, reply);
    } catch (...) {
        reply(errorReply(std::current_exception()));
    }
}

} // namespace labcm::control

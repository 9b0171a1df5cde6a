#include "core/mailbox.h"

#include <fmt/format.h>

namespace labcm {

std::optional<FieldError> validateMailbox(const Mailbox& m) {
    if (auto e = validateDn(m.dn, "dn")) return e;
    for (auto [field, n] : {std::pair{"new", m.newMessages}, std::pair{"old", m.oldMessages}})
        if (n < 0 || n > kMaxMailboxMessages)
            return FieldError{field, fmt::format("{} is not a number of messages from 0 to {}", n, kMaxMailboxMessages)};
    return std::nullopt;
}

} // namespace labcm

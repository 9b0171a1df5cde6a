// Message waiting (issue 21): a directory number's mailbox counts, as an admin or a voicemail
// system sets them. Pure.
#pragma once

#include <optional>
#include <string>

#include "core/device.h"

namespace labcm {

struct Mailbox {
    std::string dn;
    int newMessages = 0;
    int oldMessages = 0;

    bool waiting() const { return newMessages > 0; }
    bool operator==(const Mailbox&) const = default;
};

/// Most messages a count may say (what a phone's "n/m" can show and more).
inline constexpr int kMaxMailboxMessages = 9999;

/// @brief The first problem of a mailbox (field "dn", "new" or "old"), nullopt when fine.
std::optional<FieldError> validateMailbox(const Mailbox& m);

} // namespace labcm

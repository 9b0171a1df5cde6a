// The registrar's binding as the store keeps it, and back: the one conversion between
// sip::Binding and store::RegistrationRecord (pure; both clocks passed in).
#pragma once

#include <chrono>
#include <string_view>

#include "sip/registrar.h"
#include "store/registration_store.h"

namespace labcm::sip {

/// @brief The row for a binding in `state` ("registered", "unregistered", "expired").
/// The expiry becomes wall-clock ms for "registered" only (0 otherwise); an unset
/// registeredAt becomes 0 (the store then keeps the stored one).
store::RegistrationRecord toRecord(const Binding& b, std::string_view state, Clock::time_point now,
                                   std::chrono::system_clock::time_point wallNow);

/// @brief A binding put back from its row after a restart: the time left until its wall-clock
/// expiry (never negative) counted from `now`. Registrar::restore() marks it not live.
Binding fromRecord(const store::RegistrationRecord& r, Clock::time_point now,
                   std::chrono::system_clock::time_point wallNow);

} // namespace labcm::sip

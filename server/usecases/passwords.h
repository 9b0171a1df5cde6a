// The admin password: salted slow hashes (libsodium argon2id), the policy a new password
// must meet, and a random one an admin can type. The use cases (admin.password), the CLI
// (it hashes before it sends) and the admin login (http/admin_auth.h) use it; it knows no
// protocol.
#pragma once

#include <string>
#include <string_view>

namespace labcm::usecases {

/// @brief Starts libsodium once. @throw std::runtime_error when it cannot.
void initCrypto();
/// @brief An argon2id hash string (salt and cost inside). Slow on purpose (~0.1 s, 64 MiB):
/// never on a protocol thread.
std::string hashPassword(std::string_view password);
/// @brief Checks a password against a hash string; false for a malformed hash. Slow too.
bool verifyPassword(const std::string& hash, std::string_view password);
/// @brief True when the text looks like a hash this build can verify.
bool isPasswordHash(std::string_view hash);
/// @brief A random password an admin can type: 16 characters from an unambiguous alphabet.
std::string randomPassword();
/// @brief Why a new password is refused ("" when it is acceptable).
std::string passwordProblem(std::string_view password);

} // namespace labcm::usecases

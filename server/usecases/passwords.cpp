#include "usecases/passwords.h"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace labcm::usecases {

void initCrypto() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not start");
}

std::string hashPassword(std::string_view password) {
    initCrypto();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        throw std::runtime_error("out of memory while hashing the password");
    return out;
}

bool verifyPassword(const std::string& hash, std::string_view password) {
    initCrypto();
    if (!isPasswordHash(hash)) return false;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool isPasswordHash(std::string_view hash) {
    return hash.starts_with("$argon2id$") && hash.size() < crypto_pwhash_STRBYTES;
}

std::string randomPassword() {
    initCrypto();
    static constexpr std::string_view kAlphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::string out;
    for (int i = 0; i < 16; ++i) out += kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
    return out;
}

std::string passwordProblem(std::string_view password) {
    if (password.size() < 8) return "must be at least 8 characters";
    if (password.size() > 256) return "must be at most 256 characters";
    if (std::any_of(password.begin(), password.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        return "must not contain control characters";
    return {};
}

} // namespace labcm::usecases

#include "core/byte_reader.h"

#include <cstring>

#include <fmt/format.h>

namespace labcm {

TruncatedError::TruncatedError(std::string_view what, std::size_t offset, std::size_t wanted,
                               std::size_t left)
    : std::runtime_error(fmt::format("truncated {} at offset {}: needs {} bytes, {} left", what,
                                     offset, wanted, left)),
      offset_(offset) {}

void ByteReader::need(std::size_t n, std::string_view what) const {
    // Compare sizes, never pointers: data + pos + n can wrap.
    if (n > remaining()) throw TruncatedError(what, pos_, n, remaining());
}

std::uint8_t ByteReader::u8(std::string_view what) {
    need(1, what);
    return data_[pos_++];
}

std::uint16_t ByteReader::u16(std::string_view what) {
    need(2, what);
    std::uint16_t v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
}

std::uint32_t ByteReader::u32(std::string_view what) {
    need(4, what);
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
                      (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return v;
}

std::span<const std::uint8_t> ByteReader::bytes(std::size_t n, std::string_view what) {
    need(n, what);
    auto out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
}

std::string_view ByteReader::cstring(std::string_view what) {
    const auto* start = data_.data() + pos_;
    const void* nul = remaining() ? std::memchr(start, 0, remaining()) : nullptr;
    if (!nul) throw TruncatedError(what, pos_, remaining() + 1, remaining());
    std::size_t len = static_cast<const std::uint8_t*>(nul) - start;
    pos_ += len + 1;
    return {reinterpret_cast<const char*>(start), len};
}

std::span<const std::uint8_t> ByteReader::rest() {
    auto out = data_.subspan(pos_);
    pos_ = data_.size();
    return out;
}

} // namespace labcm

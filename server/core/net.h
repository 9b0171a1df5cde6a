// The address phones are told to register to, and the host's own address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace labcm::net {

/// @brief The first IPv4 address of an interface that is up and not loopback, or
/// "127.0.0.1" when there is none.
std::string primaryIPv4();

/// @brief The address phones are told to register to (pure): the setting when it is not
/// "auto"; else the bind address when it is a specific one; else `primary`.
std::string registrarAddress(const std::string& setting, const std::string& bindAddress, const std::string& primary);

/// @brief The same rule with primaryIPv4() (read only when the rule needs it).
std::string registrarAddress(const std::string& setting, const std::string& bindAddress);

/// @brief Sets a socket's receive buffer to `bytes`: SO_RCVBUFFORCE passes net.core.rmem_max
/// when labcm may (root); else SO_RCVBUF gets what rmem_max allows. A boot storm's bursts
/// overflow the kernel's default (~208 KiB) and phones wait out their retries.
void setReceiveBuffer(int fd, std::size_t bytes);

/// @brief The sockets of this type (SOCK_DGRAM, SOCK_STREAM) of this process bound to `port`:
/// for sockets a library opened and does not hand out, as sofia-sip's.
std::vector<int> socketsBoundTo(int type, std::uint16_t port);

/// @brief setReceiveBuffer() on each of `fds`. A listening socket's size is inherited by the
/// connections it accepts.
void setReceiveBuffers(const std::vector<int>& fds, std::size_t bytes);

/// @brief Datagrams the kernel dropped on a socket because its receive buffer was full
/// (SO_MEMINFO); 0 when it cannot tell.
std::uint64_t receiveDrops(int fd);

} // namespace labcm::net

// A raw HTTP/1.1 peer for tests: sends bytes exactly as given (malformed ones
// included) to a server on 127.0.0.1 and reads what comes back until the
// server closes or a deadline passes. No parsing beyond the status code.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace avctl::testutil {

// A connected socket to 127.0.0.1:port, or -1.
inline int ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool SendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes, `max_bytes` arrived, or `timeout_ms` passed.
// `closed` (if given) says whether the peer closed.
inline std::string ReadUntilClosed(int fd, int timeout_ms, bool* closed = nullptr, size_t max_bytes = 1 << 20) {
  std::string out;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  if (closed != nullptr) *closed = false;
  while (out.size() < max_bytes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed != nullptr) *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// One request on its own connection ("Connection: close" is the caller's
// to add); the whole response, or "" when the connection failed.
// `half_close`: no more bytes after the request (shutdown for writing).
inline std::string RawHttp(int port, const std::string& request, int timeout_ms = 5000, bool half_close = false) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  std::string out;
  const bool sent = SendAll(fd, request);
  if (half_close) ::shutdown(fd, SHUT_WR);
  if (sent || half_close) out = ReadUntilClosed(fd, timeout_ms);
  ::close(fd);
  return out;
}

inline std::string HttpGet(int port, const std::string& target) {
  return RawHttp(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// The status code of a response ("HTTP/1.1 404 Not Found..." -> 404), or 0.
inline int HttpStatus(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

}  // namespace avctl::testutil

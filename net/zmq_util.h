// Thin helpers over cppzmq shared by avcoord, avworker and avctl: multipart
// send and receive of string frames, socket set-up with the protocol's limits.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/status.h"

namespace avctl {

// Receives one whole multipart message; nullopt when none is waiting
// (non-blocking) or the wait timed out (blocking with ZMQ_RCVTIMEO).
std::optional<std::vector<std::string>> RecvFrames(zmq::socket_t& socket, bool block);
// Whether a message waits (ZMQ_EVENTS & ZMQ_POLLIN), retried when a signal interrupts it.
bool HasInput(zmq::socket_t& socket);
// Sends a multipart message. IOError naming the peer's problem (host
// unreachable on a ROUTER_MANDATORY socket, would block) instead of throwing.
Status SendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames, bool block = false);

// Common options: linger, maximum message size, TCP keepalive.
void ConfigureSocket(zmq::socket_t& socket, int linger_ms);
// The endpoint actually bound ("tcp://127.0.0.1:41233" for "tcp://127.0.0.1:*").
std::string LastEndpoint(zmq::socket_t& socket);
// A printable form of a ROUTER identity for logs.
std::string PrintableIdentity(const std::string& identity);

}  // namespace avctl

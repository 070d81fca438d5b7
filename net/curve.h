// CurveZMQ keys and the allowlist of the authenticated fleet (see
// docs/PROTOCOL.md, "Authentication"): key files written by `avctl keys gen`,
// the allowlist the coordinator's ZAP handler admits, the socket options of
// servers and clients, and which endpoints count as loopback.
#pragma once

#include <map>
#include <string>

#include <zmq.hpp>

#include "common/status.h"

namespace avctl {

// Z85 text (40 characters) of a 32-byte Curve25519 key.
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;  // empty for a public key file
};

// A fresh key pair from libzmq (libsodium underneath).
Result<CurveKeyPair> GenerateCurveKeyPair();

// Writes NAME.key (public and secret, mode 0600) and NAME.pub (public only,
// to hand to the coordinator's admin or to clients); refuses to overwrite.
Status WriteCurveKeyFiles(const std::string& name, const CurveKeyPair& keys);

// Reads a key file (JSON {"curve_public": Z85, "curve_secret": Z85}). With
// need_secret, the secret must be there and the file readable by its owner
// only (like ssh). Errors name the file and the field.
Result<CurveKeyPair> ReadCurveKeyFile(const std::string& path, bool need_secret);

// True when `key` is 40 characters of Z85 that decode to 32 bytes.
bool IsZ85Key(const std::string& key);

// Allowlist text: one Z85 public key per line, optionally followed by a name
// ("<key> gpu-node-7"); blank lines and '#' comments are skipped. Returns
// binary key (32 bytes) -> name (the Z85 key when unnamed). Errors name
// `path` and the line.
Result<std::map<std::string, std::string>> ParseCurveAllowlist(const std::string& text, const std::string& path);
Result<std::map<std::string, std::string>> ReadCurveAllowlist(const std::string& path);

// ZeroMQ endpoints reachable only from this machine: inproc://, ipc://, and
// tcp:// on 127.0.0.0/8, ::1 or localhost. "*" and 0.0.0.0 are not.
bool IsLoopbackEndpoint(const std::string& endpoint);
// The same for a bare host or address (the HTTP bind address).
bool IsLoopbackHost(const std::string& host);

// The ZAP domain of avctl's sockets.
inline constexpr const char* kZapDomain = "avctl";

// Makes `socket` a CURVE server with `keys` (its secret key) in kZapDomain.
void MakeCurveServer(zmq::socket_t& socket, const CurveKeyPair& keys);
// Makes `socket` a CURVE client of the server whose public key is
// `server_public`, speaking as `keys`.
void MakeCurveClient(zmq::socket_t& socket, const std::string& server_public, const CurveKeyPair& keys);

}  // namespace avctl

#include "net/curve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/json_util.h"
#include "common/text.h"

namespace avctl {

namespace {

// Creates `path` with `mode`, refusing to replace an existing file.
Status WriteNewFile(const std::string& path, const std::string& data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Status::AlreadyExists("a key file is there already; not replacing it").WithFile(path);
    return Status::FromErrno("cannot create", errno).WithFile(path);
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Status::FromErrno("write failed", err).WithFile(path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status::FromErrno("cannot complete", errno).WithFile(path);
  return Status::OK();
}

std::string Decode(const std::string& z85) {
  std::array<uint8_t, 32> bin{};
  if (z85.size() != 40 || zmq_z85_decode(bin.data(), z85.c_str()) == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(bin.data()), bin.size());
}

}  // namespace

Result<CurveKeyPair> GenerateCurveKeyPair() {
  if (!zmq_has("curve")) return Status::FailedPrecondition("this libzmq was built without CURVE");
  std::array<char, 41> pub{}, sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    return Status::Internal(fmt::format("zmq_curve_keypair failed: {}", zmq_strerror(zmq_errno())));
  }
  return CurveKeyPair{pub.data(), sec.data()};
}

bool IsZ85Key(const std::string& key) { return !Decode(key).empty(); }

Status WriteCurveKeyFiles(const std::string& name, const CurveKeyPair& keys) {
  const Json secret = {{"curve_public", keys.public_key}, {"curve_secret", keys.secret_key},
                       {"note", "avctl CURVE key pair: keep this file secret (mode 0600)"}};
  const Json pub = {{"curve_public", keys.public_key}};
  AVCTL_RETURN_IF_ERROR(WriteNewFile(name + ".key", secret.dump(2) + "\n", 0600));
  return WriteNewFile(name + ".pub", pub.dump(2) + "\n", 0644);
}

Result<CurveKeyPair> ReadCurveKeyFile(const std::string& path, bool need_secret) {
  AVCTL_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  CurveKeyPair k;
  if (!j.is_object() || !j.contains("curve_public") || !j["curve_public"].is_string() ||
      !IsZ85Key(j["curve_public"].get<std::string>())) {
    return Status::InvalidArgument("expected a 40-character Z85 public key (see avctl keys gen)")
        .WithFile(path)
        .WithField("curve_public");
  }
  k.public_key = j["curve_public"].get<std::string>();
  if (!need_secret) return k;
  if (!j.contains("curve_secret") || !j["curve_secret"].is_string() ||
      !IsZ85Key(j["curve_secret"].get<std::string>())) {
    return Status::InvalidArgument("expected a 40-character Z85 secret key: give the .key file, not the .pub")
        .WithFile(path)
        .WithField("curve_secret");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("cannot stat", errno).WithFile(path);
  if ((st.st_mode & 077) != 0) {
    return Status::FailedPrecondition(fmt::format("permissions {:04o} let others read the secret key: chmod 600 {}",
                                                  st.st_mode & 0777, path))
        .WithFile(path);
  }
  k.secret_key = j["curve_secret"].get<std::string>();
  return k;
}

Result<std::map<std::string, std::string>> ParseCurveAllowlist(const std::string& text, const std::string& path) {
  std::map<std::string, std::string> out;
  int line_no = 0;
  for (std::string_view raw : SplitLines(text)) {
    ++line_no;
    std::string_view line = Trim(raw);
    // '#' is a Z85 digit, but never the first of a key (it would overflow the
    // first 32-bit group), so a line starting with it is a comment.
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.find_first_of(" \t");
    const std::string key(line.substr(0, space));
    std::string name = space == std::string_view::npos ? key : std::string(Trim(line.substr(space)));
    const std::string bin = Decode(key);
    if (bin.empty()) {
      return Status::InvalidArgument(
                 fmt::format("line {}: expected a 40-character Z85 public key, got \"{}\"", line_no, key))
          .WithFile(path);
    }
    out[bin] = name;
  }
  return out;
}

Result<std::map<std::string, std::string>> ReadCurveAllowlist(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseCurveAllowlist(text, path);
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

bool IsLoopbackEndpoint(const std::string& endpoint) {
  if (endpoint.rfind("inproc://", 0) == 0 || endpoint.rfind("ipc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  std::string host = endpoint.substr(6);
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos) host = host.substr(0, colon);
  return IsLoopbackHost(host);
}

void MakeCurveServer(zmq::socket_t& socket, const CurveKeyPair& keys) {
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
}

void MakeCurveClient(zmq::socket_t& socket, const std::string& server_public, const CurveKeyPair& keys) {
  socket.set(zmq::sockopt::curve_serverkey, server_public);
  socket.set(zmq::sockopt::curve_publickey, keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
}

}  // namespace avctl

#include "common/wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace avctl {

Result<std::shared_ptr<Wakeup>> Wakeup::Create() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot make an eventfd", errno);
  return std::shared_ptr<Wakeup>(new Wakeup(fd));
}

Wakeup::~Wakeup() { ::close(fd_); }

void Wakeup::Notify() {
  const uint64_t one = 1;
  // EAGAIN only when the counter is saturated: it is readable anyway.
  while (::write(fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

void Wakeup::Clear() {
  uint64_t count = 0;
  while (::read(fd_, &count, sizeof(count)) < 0 && errno == EINTR) {
  }
}

}  // namespace avctl

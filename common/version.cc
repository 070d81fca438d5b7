#include "common/version.h"

#include "avctl_version.h"  // generated at build time (cmake/write_version.cmake)

namespace avctl {
const char* CodeVersion() { return AVCTL_GIT_VERSION; }
}  // namespace avctl

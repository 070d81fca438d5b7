#include "common/version.h"

namespace avctl {
const char* CodeVersion() { return AVCTL_GIT_VERSION; }
}  // namespace avctl

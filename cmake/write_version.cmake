# Writes OUT (a header defining AVCTL_GIT_VERSION) from `git describe`, and
# only touches the file when the version changed, so a build after a commit
# records the new version without rebuilding everything else.
execute_process(COMMAND git describe --always --dirty --tags
                WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT version)
  set(version "unknown")
endif()
set(content "#pragma once\n#define AVCTL_GIT_VERSION \"${version}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
else()
  set(old "")
endif()
if(NOT old STREQUAL content)
  file(WRITE ${OUT} "${content}")
endif()

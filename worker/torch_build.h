// What libtorch says of its own build (at::show_config(), the text of
// torch.__config__.show()), read into fields for `avworker info` and the
// supported-builds check: its version, whether it was built with CUDA and
// which, its cuDNN, and the C++ string ABI it was compiled with. Torch-free:
// the text is passed in.
#pragma once

#include <string>

namespace avctl {

struct TorchBuild {
  std::string version;        // "2.6.0"; "" when the text does not say
  bool cuda = false;          // USE_CUDA=ON
  std::string cuda_version;   // "12.4"
  std::string cudnn_version;  // "9.1.0"
  // "1" (the C++11 string ABI), "0" (the pre-C++11 ABI of older pip wheels),
  // "" when the build flags do not say (the compiler's default: 1 on GCC >= 5).
  std::string cxx11_abi;
};

TorchBuild ParseTorchBuild(const std::string& show_config);

// The NVIDIA kernel driver's version from the text of
// /proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX x86_64 Kernel
// Module  550.54.15  Tue Mar  5 ..."); "" when none is named.
std::string ParseNvidiaDriverVersion(const std::string& proc_text);

}  // namespace avctl

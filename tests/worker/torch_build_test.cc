#include "worker/torch_build.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

// Debian 12's libtorch 1.13 (CPU), as its at::show_config() prints it (abridged).
constexpr const char* kDebian113 =
    "PyTorch built with:\n  - GCC 12.2\n  - CPU capability usage: AVX2\n"
    "  - Build settings: BLAS_INFO=generic, BUILD_TYPE=RelWithDebInfo, CXX_COMPILER=/usr/bin/c++, CXX_FLAGS=-Wdate-time "
    "-D_FORTIFY_SOURCE=2 -g -O2 -fopenmp, LAPACK_INFO=generic, TORCH_VERSION=1.13.0, USE_CUDA=OFF, USE_CUDNN=OFF, "
    "USE_MKLDNN=ON, USE_OPENMP=ON, USE_ROCM=OFF, \n";
// A pip wheel of PyTorch 2.1 with CUDA 12.1 (the pre-C++11 ABI), abridged
// from torch.__config__.show().
constexpr const char* kPip21Cuda =
    "PyTorch built with:\n  - GCC 9.3\n  - CUDA Runtime 12.1\n  - CuDNN 8.9.2\n"
    "  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release, CUDA_VERSION=12.1, CUDNN_VERSION=8.9.2, "
    "CXX_COMPILER=/opt/rh/devtoolset-9/root/usr/bin/c++, CXX_FLAGS= -D_GLIBCXX_USE_CXX11_ABI=0 -fabi-version=11, "
    "TORCH_VERSION=2.1.0, USE_CUDA=ON, USE_CUDNN=ON, USE_CUSPARSELT=1, \n";

TEST(TorchBuild, ReadsVersionCudaAndTheStringAbi) {
  const TorchBuild debian = ParseTorchBuild(kDebian113);
  EXPECT_EQ(debian.version, "1.13.0");
  EXPECT_FALSE(debian.cuda);
  EXPECT_EQ(debian.cuda_version, "");
  EXPECT_EQ(debian.cxx11_abi, "") << "not in the flags: the compiler's default";
  const TorchBuild pip = ParseTorchBuild(kPip21Cuda);
  EXPECT_EQ(pip.version, "2.1.0");
  EXPECT_TRUE(pip.cuda);
  EXPECT_EQ(pip.cuda_version, "12.1");
  EXPECT_EQ(pip.cudnn_version, "8.9.2");
  EXPECT_EQ(pip.cxx11_abi, "0");
  EXPECT_EQ(ParseTorchBuild("").version, "");
}

TEST(TorchBuild, NvidiaDriverVersionFromProc) {
  EXPECT_EQ(ParseNvidiaDriverVersion("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 "
                                     "UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"),
            "550.54.15");
  EXPECT_EQ(ParseNvidiaDriverVersion("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release "
                                     "Build\n"),
            "570.86.15");
  EXPECT_EQ(ParseNvidiaDriverVersion(""), "");
}

}  // namespace
}  // namespace avctl

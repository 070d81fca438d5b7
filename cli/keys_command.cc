#include "cli/keys_command.h"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "net/curve.h"

namespace avctl::cli {

namespace po = boost::program_options;

int RunKeysCommand(const std::vector<std::string>& args, Context& ctx) {
  if (args.empty() || args[0] != "gen") {
    std::cerr << "usage: avctl keys gen NAME   (writes NAME.key, mode 0600, and NAME.pub)\n";
    return args.size() == 1 && (args[0] == "--help" || args[0] == "-h") ? kExitOk : kExitUsage;
  }
  po::options_description desc("avctl keys gen options");
  desc.add_options()("help,h", "show this help")("name", po::value<std::string>()->required(),
                                                  "path prefix of the key files (NAME.key, NAME.pub)");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("name", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs({args.begin() + 1, args.end()}, desc, pos,
                 "usage: avctl keys gen NAME   (writes NAME.key, mode 0600, and NAME.pub)", &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  const std::string name = vm["name"].as<std::string>();
  auto keys = GenerateCurveKeyPair();
  if (!keys.ok()) return ReportError(keys.status());
  if (Status s = WriteCurveKeyFiles(name, *keys); !s.ok()) return ReportError(s);
  const std::string label = std::filesystem::path(name).filename().string();
  std::cout << fmt::format(
      "wrote {0}.key (key pair, mode 0600: keep it on this machine) and {0}.pub (public key)\n"
      "public key: {1}\n"
      "to admit this key, add this line to the coordinator's allowlist (avcoord --allow FILE) and send avcoord SIGHUP:\n"
      "{1} {2}\n",
      name, keys->public_key, label);
  return kExitOk;
}

}  // namespace avctl::cli

#include "sweeps/command_job.h"

#include <cctype>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace avctl {

namespace {

Status Invalid(const std::string& path, const std::string& msg) {
  return Status::InvalidArgument(fmt::format("{}: {}", path, msg)).WithField(path);
}

bool IsParamName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

bool IsEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// One piece of a template element: literal text, or a placeholder's name.
struct Piece {
  bool placeholder = false;
  std::string text;
};

Result<std::vector<Piece>> SplitTemplate(const std::string& element, const std::string& path) {
  std::vector<Piece> out;
  std::string literal;
  for (size_t i = 0; i < element.size(); ++i) {
    const char c = element[i];
    if (c == '{' && i + 1 < element.size() && element[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < element.size() && element[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      const size_t close = element.find('}', i + 1);
      if (close == std::string::npos) return Invalid(path, "an unclosed \"{\" (write \"{{\" for a literal brace)");
      if (!literal.empty()) out.push_back({false, std::move(literal)});
      literal.clear();
      out.push_back({true, element.substr(i + 1, close - i - 1)});
      i = close;
    } else if (c == '}') {
      return Invalid(path, "a \"}\" without its \"{\" (write \"}}\" for a literal brace)");
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) out.push_back({false, std::move(literal)});
  return out;
}

const std::set<std::string>& SimplePlaceholders() {
  static const std::set<std::string> kNames = {"config",     "result", "progress", "checkpoint_dir",
                                               "output_dir", "seed",   "partition", "attempt"};
  return kNames;
}

}  // namespace

const std::vector<std::string>& CommandPlaceholders() {
  static const std::vector<std::string> kNames = {"{config}", "{result}",    "{progress}", "{checkpoint_dir}",
                                                  "{output_dir}", "{seed}",  "{partition}", "{attempt}",
                                                  "{args}",   "{param.NAME}"};
  return kNames;
}

Status CheckCommandTemplate(const std::vector<std::string>& command, const Json& params, const std::string& path) {
  if (command.empty()) return Invalid(path, "expected a non-empty list: the program and its arguments");
  if (command[0].empty()) return Invalid(JoinJsonPath(path, size_t{0}), "the program's name is empty");
  for (size_t i = 0; i < command.size(); ++i) {
    const std::string epath = JoinJsonPath(path, i);
    AVCTL_ASSIGN_OR_RETURN(std::vector<Piece> pieces, SplitTemplate(command[i], epath));
    for (const Piece& p : pieces) {
      if (!p.placeholder) continue;
      if (p.text == "args") {
        if (pieces.size() != 1) return Invalid(epath, "{args} expands to several arguments: give it an element of its own");
        if (i == 0) return Invalid(epath, "{args} cannot be the program");
        continue;
      }
      if (SimplePlaceholders().count(p.text)) continue;
      if (p.text.rfind("param.", 0) == 0) {
        const std::string name = p.text.substr(6);
        if (!params.is_object() || !params.contains(name)) {
          return Invalid(epath, fmt::format("{{{}}} names a parameter the program does not declare (declare it "
                                            "under \"params\" with its default)", p.text));
        }
        continue;
      }
      std::string known;
      for (const auto& k : CommandPlaceholders()) known += (known.empty() ? "" : " ") + k;
      return Invalid(epath, fmt::format("unknown placeholder {{{}}} (known: {}; \"{{{{\" is a literal brace)", p.text,
                                        known));
    }
  }
  return Status::OK();
}

namespace {

Result<CommandJob> ParseCommandJob(const Json& j) {
  auto fail = [](Status s) { return s; };
  if (!j.is_object()) return fail(Invalid("(job)", "expected an object, got " + DescribeJson(j)));
  static const std::set<std::string> kKnown = {"command", "params",  "env",       "workdir",       "timeout_minutes",
                                               "require_metrics", "seed", "partition", "key", "checkpoint_dir"};
  for (const auto& [k, v] : j.items()) {
    if (!kKnown.count(k)) return fail(Invalid(k, "unknown field of a command job"));
  }
  CommandJob c;
  AVCTL_ASSIGN_OR_RETURN(const Json* command, GetMember(j, "command", ""));
  if (!command->is_array()) return fail(Invalid("command", "expected a list of strings, got " + DescribeJson(*command)));
  for (size_t i = 0; i < command->size(); ++i) {
    const Json& e = (*command)[i];
    if (!e.is_string()) return fail(Invalid(JoinJsonPath("command", i), "expected a string, got " + DescribeJson(e)));
    c.command.push_back(e.get<std::string>());
  }
  if (j.contains("params")) {
    const Json& p = j["params"];
    if (!p.is_object()) return fail(Invalid("params", "expected an object of parameter names and values"));
    for (const auto& [name, value] : p.items()) {
      const std::string ppath = JoinJsonPath("params", name);
      if (!IsParamName(name)) {
        return fail(Invalid(ppath, "a parameter name is a letter or '_' then letters, digits, '_' or '-' (at most 64)"));
      }
      if (value.is_null()) return fail(Invalid(ppath, "expected a value (a number, string, boolean, list or object)"));
    }
    c.params = p;
  }
  if (Status s = CheckCommandTemplate(c.command, c.params, "command"); !s.ok()) return fail(s);
  if (j.contains("env")) {
    const Json& e = j["env"];
    if (!e.is_object()) return fail(Invalid("env", "expected an object of variable names and string values"));
    for (const auto& [name, value] : e.items()) {
      const std::string epath = JoinJsonPath("env", name);
      if (!IsEnvName(name)) return fail(Invalid(epath, "not a variable name (letters, digits and '_')"));
      if (name.rfind("AVCTL_", 0) == 0 || name == "CUDA_VISIBLE_DEVICES") {
        return fail(Invalid(epath, "set by the worker for every job (docs/JOBS.md)"));
      }
      if (!value.is_string()) return fail(Invalid(epath, "expected a string, got " + DescribeJson(value)));
      c.env[name] = value.get<std::string>();
    }
  }
  AVCTL_ASSIGN_OR_RETURN(c.workdir, GetStringOr(j, "workdir", "", ""));
  if (!c.workdir.empty() && c.workdir[0] != '/') {
    return fail(Invalid("workdir", fmt::format("\"{}\" is relative: give a folder on the workers as an absolute path "
                                               "(a spec file's relative workdir is resolved against its folder)",
                                               c.workdir)));
  }
  if (j.contains("timeout_minutes")) {
    AVCTL_ASSIGN_OR_RETURN(c.timeout_minutes, GetNumber(j, "timeout_minutes", ""));
    if (!(c.timeout_minutes > 0 && c.timeout_minutes <= 60.0 * 24 * 365)) {
      return fail(Invalid("timeout_minutes", "expected a positive number of minutes (at most a year)"));
    }
  }
  if (j.contains("require_metrics")) {
    const Json& m = j["require_metrics"];
    if (!m.is_array()) return fail(Invalid("require_metrics", "expected a list of metric names"));
    for (size_t i = 0; i < m.size(); ++i) {
      if (!m[i].is_string() || m[i].get<std::string>().empty()) {
        return fail(Invalid(JoinJsonPath("require_metrics", i), "expected a metric name"));
      }
      c.require_metrics.push_back(m[i].get<std::string>());
    }
  }
  AVCTL_ASSIGN_OR_RETURN(int64_t seed, GetIntOr(j, "seed", "", 0));
  if (seed < 0) return fail(Invalid("seed", "expected a non-negative integer"));
  c.seed = static_cast<uint64_t>(seed);
  AVCTL_ASSIGN_OR_RETURN(int64_t partition, GetIntOr(j, "partition", "", 1));
  if (partition < 1 || partition > 1000000) return fail(Invalid("partition", "expected a partition number >= 1"));
  c.partition = static_cast<int>(partition);
  AVCTL_ASSIGN_OR_RETURN(c.key, GetStringOr(j, "key", "", ""));
  AVCTL_ASSIGN_OR_RETURN(c.checkpoint_dir, GetStringOr(j, "checkpoint_dir", "", ""));
  return c;
}

}  // namespace

Result<CommandJob> CommandJobFromJson(const Json& j, const std::string& source) {
  auto c = ParseCommandJob(j);
  if (!c.ok()) return std::move(c).TakeStatus().WithFile(source);
  return c;
}

Json CommandJobToJson(const CommandJob& c) {
  Json j = {{"command", c.command}, {"params", c.params}, {"seed", c.seed}, {"partition", c.partition}};
  if (!c.env.empty()) j["env"] = c.env;
  if (!c.workdir.empty()) j["workdir"] = c.workdir;
  if (c.timeout_minutes > 0) j["timeout_minutes"] = c.timeout_minutes;
  if (!c.require_metrics.empty()) j["require_metrics"] = c.require_metrics;
  if (!c.key.empty()) j["key"] = c.key;
  if (!c.checkpoint_dir.empty()) j["checkpoint_dir"] = c.checkpoint_dir;
  return j;
}

std::string ParamArgument(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  return DumpJson(value);
}

Result<std::vector<std::string>> RenderCommand(const CommandJob& job, const CommandPaths& paths) {
  std::vector<std::string> argv;
  for (size_t i = 0; i < job.command.size(); ++i) {
    const std::string epath = JoinJsonPath("command", i);
    AVCTL_ASSIGN_OR_RETURN(std::vector<Piece> pieces, SplitTemplate(job.command[i], epath));
    if (pieces.size() == 1 && pieces[0].placeholder && pieces[0].text == "args") {
      for (const auto& [name, value] : job.params.items()) argv.push_back(fmt::format("--{}={}", name, ParamArgument(value)));
      continue;
    }
    std::string out;
    for (const Piece& p : pieces) {
      if (!p.placeholder) {
        out += p.text;
      } else if (p.text == "config") {
        out += paths.config;
      } else if (p.text == "result") {
        out += paths.result;
      } else if (p.text == "progress") {
        out += paths.progress;
      } else if (p.text == "checkpoint_dir") {
        out += paths.checkpoint_dir;
      } else if (p.text == "output_dir") {
        out += paths.output_dir;
      } else if (p.text == "seed") {
        out += std::to_string(job.seed);
      } else if (p.text == "partition") {
        out += std::to_string(job.partition);
      } else if (p.text == "attempt") {
        out += std::to_string(paths.attempt);
      } else if (p.text.rfind("param.", 0) == 0 && job.params.contains(p.text.substr(6))) {
        out += ParamArgument(job.params[p.text.substr(6)]);
      } else {
        return Invalid(epath, fmt::format("placeholder {{{}}} cannot be rendered", p.text));
      }
    }
    argv.push_back(std::move(out));
  }
  return argv;
}

}  // namespace avctl

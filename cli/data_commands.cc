#include "cli/data_commands.h"

#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/file_util.h"
#include "store/feature_store.h"
#include "store/group_split.h"
#include "store/importer.h"
#include "store/label_source.h"
#include "store/store_info.h"
#include "store/synth.h"

namespace avctl::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kDataUsage =
    "usage: avctl data <command> [options]\n"
    "\n"
    "commands:\n"
    "  synth    write a synthetic feature store on CREMA-D's labels or any corpus's labels file\n"
    "  import   build a feature store from openSMILE CSVs and VGG-face .npy files (or audio only)\n"
    "  info     summarise a feature store and verify its checksums\n"
    "  split    group-independent, class-stratified, seeded partitions of a labels CSV";


// The label-file options `data synth` and `data import` share (store/label_source.h).
void AddLabelSourceOptions(po::options_description* desc) {
  desc->add_options()("format", po::value<std::string>()->default_value("crema-d"),
                      "label files: crema-d (VAVL partition files), generic (a CSV: clip, group, label, split "
                      "columns), msp-podcast (labels_consensus.csv)")(
      "clip-column", po::value<std::string>()->default_value("clip"), "generic: the clip id column (<id>.csv, <id>.npy)")(
      "group-column", po::value<std::string>()->default_value("speaker"),
      "generic: the speaker, or another group such as a session")(
      "label-column", po::value<std::string>()->default_value("label"), "generic: the class column")(
      "gender-column", po::value<std::string>(), "generic: a gender column (optional)")(
      "split-column", po::value<std::string>(),
      "generic: the split column (default: 'split', else split_1..split_k as `data split` writes)")(
      "classes", po::value<std::string>(),
      "comma-separated classes to keep, in index order; rows of others are dropped and counted (default: every "
      "label; msp-podcast: A,S,H,U,F,D,C,N, dropping O and X)")(
      "class-names", po::value<std::string>(), "comma-separated display names, one per kept class")(
      "merge", po::value<std::string>(), "LABEL=CLASS,... merged before --classes (IEMOCAP: exc=hap)")(
      "soft-columns", po::bool_switch(), "generic: soft labels from columns named after the kept classes")(
      "msp-test-set", po::value<std::string>(),
      "msp-podcast: the test set read as Test (Test1, the default, Test2 or Test3); the others are left out and counted");
}

std::vector<std::string> CommaList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',') {
      while (!cur.empty() && cur.back() == ' ') cur.pop_back();
      size_t b = cur.find_first_not_of(' ');
      if (b != std::string::npos) out.push_back(cur.substr(b));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

Result<LabelSourceOptions> ReadLabelSourceOptions(const po::variables_map& vm) {
  LabelSourceOptions o;
  AVCTL_ASSIGN_OR_RETURN(o.format, ParseLabelFormat(vm["format"].as<std::string>()));
  const bool generic_only = vm["clip-column"].defaulted() && vm["group-column"].defaulted() &&
                            vm["label-column"].defaulted() && !vm.count("gender-column") && !vm.count("split-column") &&
                            !vm["soft-columns"].as<bool>();
  if (o.format != LabelFormat::kGeneric && !generic_only) {
    return Status::InvalidArgument("column options need --format generic").WithField("--format");
  }
  o.clip_column = vm["clip-column"].as<std::string>();
  o.group_column = vm["group-column"].as<std::string>();
  o.label_column = vm["label-column"].as<std::string>();
  if (vm.count("gender-column")) o.gender_column = vm["gender-column"].as<std::string>();
  if (vm.count("split-column")) o.split_column = vm["split-column"].as<std::string>();
  if (vm.count("classes")) o.classes = CommaList(vm["classes"].as<std::string>());
  if (vm.count("class-names")) o.class_names = CommaList(vm["class-names"].as<std::string>());
  if (vm.count("merge")) {
    AVCTL_ASSIGN_OR_RETURN(o.merge, ParseMergeList(vm["merge"].as<std::string>(), "--merge"));
  }
  o.soft_columns = vm["soft-columns"].as<bool>();
  if (vm.count("msp-test-set")) {
    if (o.format != LabelFormat::kMspPodcast) {
      return Status::InvalidArgument("a test set is chosen only with --format msp-podcast").WithField("--msp-test-set");
    }
    o.msp_test_set = vm["msp-test-set"].as<std::string>();
  }
  return o;
}

int RunSynth(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl data synth options");
  desc.add_options()("help,h", "show this help")(
      "labels", po::value<std::vector<std::string>>()->composing(),
      "partition label CSV (repeatable; partition_N.csv is partition N); default: the five shipped partitions")(
      "out", po::value<std::string>()->required(), "output store directory (must not exist unless --force)")(
      "seed", po::value<uint64_t>()->default_value(1), "random seed; the same seed gives a byte-identical store")(
      "profile", po::value<std::string>()->default_value("small"),
      "full (every clip, 130 + 4096 dims), small (16 clips/actor, 130 + 256), tiny (6 clips/actor, 16 + 32)")(
      "clips-per-actor", po::value<int>(), "override the profile's clips per actor (0 = all)")(
      "audio-llds", po::value<int>(), "override the profile's LLD count (audio dim = 2 x LLDs with deltas)")(
      "visual-dim", po::value<int>(), "override the profile's visual dimension")(
      "audio-only", po::bool_switch(), "no visual array (a corpus without video; trains the *_audio variants)")(
      "label-sharpness", po::value<double>()->default_value(2.0),
      "exponent on the soft labels when drawing the class that generates a clip's features")(
      "threads", po::value<int>()->default_value(0), "generator threads (0 = all cores)")(
      "force", po::bool_switch(), "replace an existing store at --out");
  AddLabelSourceOptions(&desc);
  AddLogOptions(&desc);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, {}, "usage: avctl data synth --out DIR [--labels CSV ...] [--seed N] [--profile P]",
                 &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);

  SynthOptions o;
  o.label_files = vm.count("labels") ? vm["labels"].as<std::vector<std::string>>() : DefaultLabelFiles();
  o.out_dir = vm["out"].as<std::string>();
  o.seed = vm["seed"].as<uint64_t>();
  auto profile = ParseSynthProfile(vm["profile"].as<std::string>());
  if (!profile.ok()) return ReportError(profile.status());
  o.profile = *profile;
  if (vm.count("clips-per-actor")) o.clips_per_actor = vm["clips-per-actor"].as<int>();
  if (vm.count("audio-llds")) o.audio_llds = vm["audio-llds"].as<int>();
  if (vm.count("visual-dim")) o.visual_dim = vm["visual-dim"].as<int>();
  o.label_sharpness = vm["label-sharpness"].as<double>();
  o.audio_only = vm["audio-only"].as<bool>();
  auto labels = ReadLabelSourceOptions(vm);
  if (!labels.ok()) return ReportError(labels.status());
  o.labels = *labels;
  if (o.labels.format != LabelFormat::kCremaD && !vm.count("labels")) {
    return ReportError(Status::InvalidArgument("--format " + vm["format"].as<std::string>() + " needs --labels").WithField("--labels"));
  }
  o.threads = vm["threads"].as<int>();
  o.overwrite = vm["force"].as<bool>();

  auto start = std::chrono::steady_clock::now();
  auto summary = SynthesizeStore(o, ctx.log);
  if (!summary.ok()) return ReportError(summary.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string visual = summary->visual_dim == 0
                                 ? std::string("no visual (audio only)")
                                 : fmt::format("visual {} dims / {} frames", summary->visual_dim, summary->visual_frames);
  std::cout << fmt::format("wrote synthetic store {}: {} clips, audio {} dims / {} frames, {}, {:.1f} MiB in {:.1f} s\n",
                           o.out_dir, summary->clips, summary->audio_dim, summary->audio_frames, visual,
                           summary->bytes / 1048576.0, secs);
  return kExitOk;
}

int RunInfo(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl data info options");
  desc.add_options()("help,h", "show this help")("store", po::value<std::string>()->required(), "store directory")(
      "json", po::bool_switch(), "print JSON instead of text")(
      "no-verify", po::bool_switch(), "skip the checksum verification (sizes are still checked)")(
      "per-actor", po::bool_switch(), "list the clip count of every actor (or speaker or session: the store's groups)");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("store", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl data info DIR [--json] [--no-verify] [--per-actor]", &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);

  const std::string dir = vm["store"].as<std::string>();
  FeatureStore::Options options;
  options.verify_checksums = !vm["no-verify"].as<bool>();
  auto store = FeatureStore::Open(dir, options);
  if (!store.ok()) return ReportError(store.status());
  StoreSummary s = SummarizeManifest((*store)->manifest());
  s.checksum_status = options.verify_checksums ? "verified (xxh3-64 of every data file matches the manifest)"
                                               : "not verified (--no-verify); file sizes match";
  if (vm["json"].as<bool>()) {
    std::cout << SummaryToJson(s).dump(2) << "\n";
  } else {
    std::cout << "store:       " << dir << "\n" << RenderSummaryText(s, vm["per-actor"].as<bool>());
  }
  return kExitOk;
}

int RunImport(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl data import options");
  desc.add_options()("help,h", "show this help")(
      "labels", po::value<std::vector<std::string>>()->composing()->required(),
      "label CSV (repeatable: one per partition; CREMA-D's partition_N.csv is partition N; see --format)")(
      "audio-dir", po::value<std::string>()->required(),
      "directory of openSMILE ComParE_2016 LLD CSVs, one <clip>.csv per clip")(
      "visual-dir", po::value<std::string>(),
      "directory of VGG-face features, one <clip>.npy per clip; without it the store is audio only")(
      "out", po::value<std::string>()->required(), "output store directory (must not exist unless --force)")(
      "visual-fps", po::value<double>()->default_value(30.0), "frame rate of the visual features")(
      "audio-step-ms", po::value<double>()->default_value(16.0), "frame step of the audio LLDs")(
      "expect-llds", po::value<int>()->default_value(65), "LLD count every audio file must have (0 = any, same in all)")(
      "expect-visual-dim", po::value<int>()->default_value(4096), "visual dimension (0 = any, same in all)")(
      "skip-missing", po::bool_switch(), "import the clips that have both files and list the missing ones")(
      "threads", po::value<int>()->default_value(0), "reader threads (0 = all cores)")(
      "force", po::bool_switch(), "replace an existing store at --out");
  AddLabelSourceOptions(&desc);
  AddLogOptions(&desc);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, {},
                 "usage: avctl data import --labels CSV [--labels CSV ...] --audio-dir DIR [--visual-dir DIR] --out DIR "
                 "[--format crema-d|generic|msp-podcast]",
                 &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);

  ImportOptions o;
  o.label_files = vm["labels"].as<std::vector<std::string>>();
  o.audio_dir = vm["audio-dir"].as<std::string>();
  if (vm.count("visual-dir")) o.visual_dir = vm["visual-dir"].as<std::string>();
  auto labels = ReadLabelSourceOptions(vm);
  if (!labels.ok()) return ReportError(labels.status());
  o.labels = *labels;
  o.out_dir = vm["out"].as<std::string>();
  o.visual_fps = vm["visual-fps"].as<double>();
  o.audio_step_ms = vm["audio-step-ms"].as<double>();
  o.expect_llds = vm["expect-llds"].as<int>();
  o.expect_visual_dim = vm["expect-visual-dim"].as<int>();
  o.skip_missing = vm["skip-missing"].as<bool>();
  o.threads = vm["threads"].as<int>();
  o.overwrite = vm["force"].as<bool>();
  auto report = ImportStore(o, ctx.log);
  if (!report.ok()) return ReportError(report.status());
  std::cout << RenderImportReport(*report);
  return kExitOk;
}

int RunSplit(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl data split options");
  desc.add_options()("help,h", "show this help")(
      "labels", po::value<std::string>()->required(), "labels CSV: a header row, one row per clip, comma-separated")(
      "group", po::value<std::string>()->required(),
      "the column no split may share: the speaker, or another group such as IEMOCAP's session")(
      "label", po::value<std::string>()->required(), "the class column (stratified by it where the groups allow)")(
      "partitions", po::value<int>()->default_value(5), "how many partitions")(
      "train", po::value<double>()->default_value(0.70), "share of the clips in Train")(
      "dev", po::value<double>()->default_value(0.15), "share in Development")(
      "test", po::value<double>()->default_value(0.15), "share in Test")(
      "seed", po::value<uint64_t>()->default_value(1), "random seed; the same seed gives the same partitions")(
      "out", po::value<std::string>()->required(), "the CSV written: the rows with a split_N column per partition");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("labels", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos,
                 "usage: avctl data split LABELS.csv --group COLUMN --label COLUMN --out OUT.csv [--partitions K] "
                 "[--train S --dev S --test S] [--seed N]",
                 &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  const std::string path = vm["labels"].as<std::string>();
  auto text = ReadFileToString(path);
  if (!text.ok()) return ReportError(text.status());
  GroupSplitOptions o;
  o.partitions = vm["partitions"].as<int>();
  o.train = vm["train"].as<double>();
  o.development = vm["dev"].as<double>();
  o.test = vm["test"].as<double>();
  o.seed = vm["seed"].as<uint64_t>();
  auto out = SplitLabelsCsv(*text, path, vm["group"].as<std::string>(), vm["label"].as<std::string>(), o);
  if (!out.ok()) return ReportError(out.status());
  if (Status st = WriteFileAtomic(vm["out"].as<std::string>(), out->text); !st.ok()) return ReportError(st);
  std::cout << fmt::format("wrote {}: {} groups, classes {}, {} partition(s), seed {}\n", vm["out"].as<std::string>(),
                           out->split.groups.size(), fmt::join(out->classes, " "), o.partitions, o.seed);
  for (size_t p = 0; p < out->split.counts.size(); ++p) {
    std::string row = fmt::format("  partition {}:", p + 1);
    for (Split sp : {Split::kTrain, Split::kDevelopment, Split::kTest}) {
      const auto& c = out->split.counts[p][static_cast<size_t>(sp)];
      int64_t clips = 0, groups = 0;
      for (int64_t n : c) clips += n;
      for (Split a : out->split.assignment[p]) groups += a == sp;
      row += fmt::format("  {} {} clips / {} groups ({})", SplitName(sp), clips, groups, fmt::join(c, " "));
    }
    std::cout << row << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunDataCommand(const std::vector<std::string>& args, Context& ctx) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kDataUsage << "\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "synth") return RunSynth(rest, ctx);
  if (args[0] == "info") return RunInfo(rest, ctx);
  if (args[0] == "import") return RunImport(rest, ctx);
  if (args[0] == "split") return RunSplit(rest, ctx);
  std::cerr << "avctl: error: unknown data command '" << args[0] << "'\n" << kDataUsage << "\n";
  return kExitUsage;
}

int RunDemoCommand(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl demo options");
  desc.add_options()("help,h", "show this help")(
      "workdir", po::value<std::string>()->default_value("avctl-demo"), "where the demo writes its store")(
      "profile", po::value<std::string>()->default_value("small"), "synthetic profile: full, small or tiny")(
      "seed", po::value<uint64_t>()->default_value(1), "random seed");
  AddLogOptions(&desc);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, {}, "usage: avctl demo [--workdir DIR] [--profile P] [--seed N]", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);

  const std::string workdir = vm["workdir"].as<std::string>();
  const std::string store = (std::filesystem::path(workdir) / "store").string();
  std::vector<std::string> synth = {"--out", store, "--profile", vm["profile"].as<std::string>(), "--seed",
                                    std::to_string(vm["seed"].as<uint64_t>()), "--force"};
  ctx.log->Info("demo: step 1/2: synthetic CREMA-D-shaped store from the five shipped partitions");
  if (int rc = RunSynth(synth, ctx); rc != kExitOk) return rc;
  ctx.log->Info("demo: step 2/2: summary and checksum verification");
  return RunInfo({store}, ctx);
}

}  // namespace avctl::cli

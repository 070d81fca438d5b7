// The per-epoch decisions of the paper's protocol, apart from any tensor:
// which epoch's model is kept (best development score, optional early stop)
// and when the learning rate drops (reduce-on-plateau on the development
// loss). Torch-free, so the rules are tested on plain numbers.
#pragma once

#include <limits>
#include <string>

namespace avctl {

// Keeps the epoch with the best development score: the lowest loss
// ("dev_loss") or the highest macro F1 ("dev_macro_f1"); ties keep the
// earlier epoch. With patience > 0, the run stops after more than `patience`
// epochs without a new best.
class EpochSelector {
 public:
  // by_f1: select by dev macro F1 (else by dev loss).
  EpochSelector(bool by_f1, int early_stop_patience) : by_f1_(by_f1), patience_(early_stop_patience) {}

  // Returns true when this epoch is the new best (the caller snapshots it).
  bool Offer(int epoch, double dev_loss, double dev_macro_f1);
  bool ShouldStop() const { return patience_ > 0 && since_best_ > patience_; }
  int best_epoch() const { return best_epoch_; }

  // What a checkpoint keeps: the decisions so far (the settings come from the job).
  struct State {
    double best = std::numeric_limits<double>::infinity();
    int best_epoch = 0, since_best = 0;
  };
  State state() const { return {best_, best_epoch_, since_best_}; }
  void set_state(const State& s) {
    best_ = s.best;
    best_epoch_ = s.best_epoch;
    since_best_ = s.since_best;
  }

 private:
  bool by_f1_;
  int patience_;
  double best_ = std::numeric_limits<double>::infinity();
  int best_epoch_ = 0;
  int since_best_ = 0;
};

// PyTorch's ReduceLROnPlateau in "min" mode with its default relative
// threshold 1e-4 and no cooldown: an epoch improves when its loss is below
// best * (1 - 1e-4); after more than `patience` epochs without improvement
// the rate is multiplied by `factor` and the count starts again.
class PlateauSchedule {
 public:
  PlateauSchedule(double lr, int patience, double factor) : lr_(lr), patience_(patience), factor_(factor) {}

  // Feeds one epoch's development loss; returns the rate for the next epoch.
  double Step(double dev_loss);
  double lr() const { return lr_; }

  struct State {
    double lr = 0, best = std::numeric_limits<double>::infinity();
    int bad_epochs = 0;
  };
  State state() const { return {lr_, best_, bad_epochs_}; }
  void set_state(const State& s) {
    lr_ = s.lr;
    best_ = s.best;
    bad_epochs_ = s.bad_epochs;
  }

 private:
  double lr_;
  int patience_;
  double factor_;
  double best_ = std::numeric_limits<double>::infinity();
  int bad_epochs_ = 0;
};

}  // namespace avctl

#include "worker/epoch_schedule.h"

namespace avctl {

bool EpochSelector::Offer(int epoch, double dev_loss, double dev_macro_f1) {
  const double score = by_f1_ ? -dev_macro_f1 : dev_loss;
  if (score < best_) {
    best_ = score;
    best_epoch_ = epoch;
    since_best_ = 0;
    return true;
  }
  ++since_best_;
  return false;
}

double PlateauSchedule::Step(double dev_loss) {
  if (dev_loss < best_ * (1 - 1e-4)) {
    best_ = dev_loss;
    bad_epochs_ = 0;
  } else if (++bad_epochs_ > patience_) {
    lr_ *= factor_;
    bad_epochs_ = 0;
  }
  return lr_;
}

}  // namespace avctl

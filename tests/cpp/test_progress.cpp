// tl::Progress and tl::Reporter against the C API: the same steps and
// epochs on the same (fake) clock give the C callbacks' records bit for bit
// and byte-identical CSV files; callables of any kind are accepted, and an
// exception a callable throws is rethrown after the C call returned, never
// unwound through libtl's C frames, leaving the tracker usable.
#include <tl/tl.hpp>

#include "expect.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

// The numbers of a step record, with its views copied.
struct StepRec {
  int stage;
  std::uint64_t epoch, n_epochs, step, total_steps;
  std::vector<double> nums; // loss, smooth_loss, elapsed, remaining, lrs...
  bool operator==(const StepRec &o) const {
    return stage == o.stage && epoch == o.epoch && n_epochs == o.n_epochs &&
           step == o.step && total_steps == o.total_steps &&
           same_bits(nums, o.nums);
  }
};
static StepRec copy(const tl_progress_record &r) {
  StepRec s{static_cast<int>(r.stage),
            r.epoch,
            r.n_epochs,
            r.step,
            r.total_steps,
            {r.loss, r.smooth_loss, r.elapsed, r.remaining}};
  s.nums.insert(s.nums.end(), r.lrs, r.lrs + r.n_lrs);
  return s;
}
// The numbers and names of an epoch record.
struct EpochRec {
  std::uint64_t epoch;
  std::vector<double> nums; // train_loss, valid_loss, seconds, metrics...
  std::vector<std::string> names;
  bool operator==(const EpochRec &o) const {
    return epoch == o.epoch && same_bits(nums, o.nums) && names == o.names;
  }
};
static EpochRec copy(const tl_epoch_record &r) {
  EpochRec e{r.epoch, {r.train_loss, r.valid_loss, r.seconds}, {}};
  for (size_t i = 0; i < r.n_metrics; i++) {
    e.nums.push_back(r.metrics[i]);
    e.names.emplace_back(r.metric_names[i]);
  }
  return e;
}

// The C side: records through C callbacks, a fake clock.
struct CSeen {
  std::vector<StepRec> steps;
  std::vector<EpochRec> epochs;
  double now = 10.0;
};
static void c_step(void *p, const tl_progress_record *r) {
  static_cast<CSeen *>(p)->steps.push_back(copy(*r));
}
static void c_epoch(void *p, const tl_epoch_record *r) {
  static_cast<CSeen *>(p)->epochs.push_back(copy(*r));
}
static double c_clock(void *p) { return static_cast<CSeen *>(p)->now; }

static std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

static double loss_at(int i) { return 2.0 / (1.0 + i) + 0.05 * (i % 3); }

// A run of 2 epochs of 4 training and 2 validation steps with 3 rates.
template <typename Step, typename End, typename Tick>
static void drive(Step step, End end, Tick tick) {
  const double lrs[3] = {1e-4, 3e-4, 1e-3};
  int i = 0;
  for (int e = 0; e < 2; e++) {
    for (int k = 0; k < 4; k++, i++) {
      tick(1.5);
      step(TL_PROGRESS_STAGE_TRAIN, loss_at(i), lrs);
    }
    for (int k = 0; k < 2; k++, i++) {
      tick(0.25);
      step(TL_PROGRESS_STAGE_VALID, loss_at(i) + 0.5, lrs);
    }
    end(0.75 - 0.1 * e, e);
  }
}

static void same_as_c(const std::string &dir) {
  const std::string cs = dir + "/c_steps.csv", ce = dir + "/c_epochs.csv";
  const std::string ps = dir + "/p_steps.csv", pe = dir + "/p_epochs.csv";
  const char *names[2] = {"accuracy", "f1"};
  // C
  CSeen c;
  tl_progress_options o = TL_PROGRESS_OPTIONS_INIT;
  o.n_epochs = 2;
  o.train_steps = 4;
  o.valid_steps = 2;
  o.on_step = c_step;
  o.on_epoch = c_epoch;
  o.payload = &c;
  o.clock = c_clock;
  o.clock_payload = &c;
  tl_progress *cp = nullptr;
  C_OK(tl_progress_create(&cp, &o));
  tl_reporter *cr = nullptr;
  C_OK(tl_reporter_create_csv(&cr, cs.c_str(), ce.c_str()));
  C_OK(tl_progress_add_reporter(cp, cr));
  drive(
      [&](tl_progress_stage st, double loss, const double *lrs) {
        C_OK(tl_progress_step(cp, st, loss, lrs, 3));
      },
      [&](double valid, int e) {
        const double m[2] = {0.5 + 0.1 * e, 0.25 * e};
        C_OK(tl_progress_end_epoch(cp, valid, names, m, 2));
      },
      [&](double dt) { c.now += dt; });
  tl_progress_free(cp);
  tl_reporter_free(cr);
  // C++: lambdas capturing state, a std::function clock
  std::vector<StepRec> steps;
  std::vector<EpochRec> epochs;
  double now = 10.0;
  tl::ProgressOptions po;
  EXPECT(po.n_epochs == 1 && po.train_steps == 0 && po.valid_steps == 0 &&
         po.smooth_beta == 0.98 && po.on_step == nullptr &&
         po.clock == nullptr);
  po.n_epochs = 2;
  po.train_steps = 4;
  po.valid_steps = 2;
  tl::ProgressCallbacks cb;
  cb.on_step = [&](const tl_progress_record &r) { steps.push_back(copy(r)); };
  cb.on_epoch = [&](const tl_epoch_record &r) { epochs.push_back(copy(r)); };
  cb.clock = [&] { return now; };
  tl::Reporter rep = tl::Reporter::csv(ps, pe);
  tl::Progress p0(po, cb);
  tl::Progress p = std::move(p0); // the callables' payload survives a move
  EXPECT(!p0 && p);
  p.add_reporter(rep);
  drive(
      [&](tl_progress_stage st, double loss, const double *lrs) {
        p.step(st, loss, tl::span<const double>(lrs, 3));
      },
      [&](double valid, int e) {
        const std::vector<double> m = {0.5 + 0.1 * e, 0.25 * e};
        p.end_epoch(valid, {"accuracy", "f1"}, m);
      },
      [&](double dt) { now += dt; });
  rep.close();
  EXPECT(steps.size() == 12 && steps == c.steps);
  EXPECT(epochs.size() == 2 && epochs == c.epochs);
  EXPECT(epochs[1].nums[2] == 3 * 1.5 + 0.25 + 0.25 + 1.5);
  const std::string a = slurp(cs), b = slurp(ps);
  EXPECT(a.size() > 100 && a == b);
  EXPECT(slurp(ce) == slurp(pe) &&
         slurp(pe).find("accuracy") != std::string::npos);
  // past the last epoch: C's state error
  EXPECT_THROW(p.step(TL_PROGRESS_STAGE_TRAIN, 1.0), tl::StateError,
               "tl_progress_step");
  for (const std::string &f : {cs, ce, ps, pe})
    std::remove(f.c_str());
}

struct Boom {
  int at;
};

static void throwing_callables(const std::string &dir) {
  const std::string steps_csv = dir + "/t_steps.csv";
  tl::ProgressOptions po;
  po.train_steps = 5;
  int calls = 0;
  double now = 0.0;
  bool clock_throws = false;
  tl::ProgressCallbacks cb;
  cb.on_step = [&](const tl_progress_record &r) {
    calls++;
    if (r.step == 2)
      throw Boom{2};
  };
  cb.clock = [&] {
    if (clock_throws)
      throw std::runtime_error("clock broke");
    return now;
  };
  tl::Reporter rep = tl::Reporter::csv(steps_csv, "");
  tl::Progress p(po, cb);
  p.add_reporter(rep);
  now = 1.0;
  p.step(TL_PROGRESS_STAGE_TRAIN, 1.0);
  now = 2.0;
  bool caught = false;
  try {
    p.step(TL_PROGRESS_STAGE_TRAIN, 0.5);
  } catch (const Boom &b) {
    caught = b.at == 2; // the callable's own exception, unchanged
  }
  EXPECT(caught && calls == 2);
  // the step was counted and reported; the tracker goes on
  now = 3.0;
  p.step(TL_PROGRESS_STAGE_TRAIN, 0.25);
  EXPECT(calls == 3);
  clock_throws = true;
  EXPECT_THROW(p.step(TL_PROGRESS_STAGE_TRAIN, 0.25), std::runtime_error,
               "clock broke");
  clock_throws = false;
  p.step(TL_PROGRESS_STAGE_TRAIN, 0.25);
  rep.close();
  const std::string rows = slurp(steps_csv);
  size_t lines = 0;
  for (char ch : rows)
    lines += ch == '\n';
  EXPECT(lines == 1 + 5); // header + every step, the throwing ones too
  std::remove(steps_csv.c_str());
  // a tl::Error from a callable keeps its class and status
  tl::ProgressCallbacks cb3;
  cb3.on_epoch = [](const tl_epoch_record &) {
    throw tl::NotFound(TL_E_NOT_FOUND, "no such metric");
  };
  tl::Progress q(tl::ProgressOptions(), cb3);
  EXPECT_THROW(q.end_epoch(), tl::NotFound, "no such metric");
  // bad input
  EXPECT_THROW(q.end_epoch(1.0, {"a"}, {}), tl::ShapeError,
               "tl::Progress::end_epoch: metrics has 0");
  tl::Progress r;
  EXPECT_THROW(r.step(TL_PROGRESS_STAGE_TRAIN, NAN), tl::NumericError,
               "tl_progress_step");
  tl_progress_options mixed = TL_PROGRESS_OPTIONS_INIT;
  mixed.on_step = c_step;
  EXPECT_THROW(tl::Progress(mixed, cb), tl::InvalidArgument, "C callbacks");
  tl::ProgressOptions zero;
  zero.n_epochs = 0;
  EXPECT_THROW(tl::Progress{zero}, tl::InvalidArgument, "n_epochs");
  EXPECT_THROW(tl::Reporter::csv("/nonexistent/dir/x.csv", ""), tl::IoError,
               "/nonexistent/dir/x.csv");
  tl::Reporter gone = std::move(rep);
  EXPECT_THROW(r.add_reporter(rep), tl::StateError, "tl::Reporter");
  tl::Progress moved = std::move(r);
  EXPECT_THROW(r.step(TL_PROGRESS_STAGE_TRAIN, 1.0), tl::StateError,
               "tl::Progress");
  // a terminal reporter writes fastai's table to the stream given
  std::FILE *f = std::tmpfile();
  tl::Reporter term = tl::Reporter::terminal(f, TL_REPORTER_MODE_LINES);
  moved.add_reporter(term);
  moved.step(TL_PROGRESS_STAGE_TRAIN, 1.0);
  moved.end_epoch(0.5);
  term.close();
  EXPECT(std::ftell(f) > 0);
  std::fclose(f);
}

int main() {
  char dir[] = "/tmp/tl_cpp_progress_XXXXXX";
  if (mkdtemp(dir) == nullptr)
    return 1;
  same_as_c(dir);
  throwing_callables(dir);
  rmdir(dir);
  return report();
}

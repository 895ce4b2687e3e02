#pragma once
// SIGINT and SIGTERM during training: the first one is noted (the step in flight finishes, the
// checkpoint is saved, the command exits 130 or 143); the handler then steps aside, so a second
// signal ends the process at once.

namespace gpurnn::cli {

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the previous ones
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The first signal received (SIGINT or SIGTERM), or 0.
  static int received();
  // The shell's exit status for a process ended by `signal`: 128 + its number.
  static int exit_status(int signal) { return 128 + signal; }
};

const char* signal_name(int signal);

}  // namespace gpurnn::cli

#include "cli/stop_signals.h"

#include <signal.h>

namespace gpurnn::cli {
namespace {

volatile sig_atomic_t g_received = 0;
struct sigaction g_old_int, g_old_term;

void on_signal(int signal) {
  if (g_received == 0) g_received = signal;
  // The next one takes the default action (the process ends).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(signal, &dfl, nullptr);
}

}  // namespace

StopSignals::StopSignals() {
  g_received = 0;
  struct sigaction act {};
  act.sa_handler = on_signal;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART;
  sigaction(SIGINT, &act, &g_old_int);
  sigaction(SIGTERM, &act, &g_old_term);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int StopSignals::received() { return g_received; }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

}  // namespace gpurnn::cli
